// libFuzzer entry point for the sass-imports target; the checks are in
// Tests/VaultFormatTests/FuzzProperties.swift. Built by scripts/fuzz.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzTarget.sassImports.fuzz(data, size)
}
