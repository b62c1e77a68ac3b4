// Shared loading code for the known-answer vectors in `Fixtures/vectors/`.
//
// Everything here is strict: an unknown key, a malformed line or a missing field is
// an error (thrown as `VectorError`), never a silently skipped record.

import Foundation
import TestSupport
import Testing
import VaultCrypto

// MARK: - Errors and small helpers

/// A fixture file that does not look the way the loader expects.
struct VectorError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Decodes test hex (either case). Throws a `VectorError` naming the context.
func hex(_ text: String, _ context: @autoclosure () -> String = "hex") throws -> [UInt8] {
    do {
        return try Hex.decode(text)
    } catch {
        throw VectorError("\(context()): not valid hex: \(text.prefix(80))")
    }
}

/// Test secrets: copies public test bytes into a `SecretBytes`.
func secret(_ bytes: [UInt8]) -> SecretBytes { SecretBytes(copying: bytes) }

/// Test secrets from hex.
func secret(hex text: String) throws -> SecretBytes { SecretBytes(copying: try hex(text)) }

/// A copy of a secret's bytes, for assertions in tests only.
func bytes(of secret: SecretBytes) -> [UInt8] { secret.withUnsafeBytes { Array($0) } }

/// `bytes` with bit `bit` (0 = least significant bit of byte 0) inverted.
func flippingBit(_ bit: Int, of bytes: [UInt8]) -> [UInt8] {
    var copy = bytes
    copy[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
    return copy
}

// MARK: - Locating the fixtures

enum Fixtures {
    /// The repository root (``Repository/root``).
    static func repoRoot() throws -> URL { Repository.root }

    /// `Fixtures/vectors/<relativePath>` in the repository.
    static func url(_ relativePath: String) throws -> URL {
        try repoRoot().appendingPathComponent("Fixtures/vectors").appendingPathComponent(relativePath)
    }

    static func data(_ relativePath: String) throws -> Data {
        let url = try url(relativePath)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw VectorError("cannot read fixture \(url.path)")
        }
        return data
    }

    static func text(_ relativePath: String) throws -> String {
        let data = try data(relativePath)
        guard let text = String(data: data, encoding: .utf8) else {
            throw VectorError("\(relativePath) is not UTF-8")
        }
        return text
    }

    /// BLAKE2b-256 of every fixture file as copied from the shared vectors folder
    /// (computed with Python's `hashlib.blake2b(data, digest_size=32)`), so that an
    /// accidental edit of a vector file is caught.
    static let digests: [String: String] = [
        "README.md": "e680821e0cd05116fcf979c26647b3da980022650b9aeb4510725f178a4e0d3a",
        "cctv-age/armor_crlf": "162620cd7ef6f1ef8a20101880e662fb53c08b7f694341d5edee0b2054331774",
        "cctv-age/armor_empty": "ee6419ea0c93d4a603bc9834a491021e8c70012d4bfc0040eca06a84c1db3afd",
        "cctv-age/armor_empty_last_line": "430009ec3d2f2a585d43a32543a1fdd7a7adf1fd88b54a782543cd2b56b4ffd7",
        "cctv-age/armor_empty_line_begin": "25ab78c45134d59125d355dce1ae29d5d1c14d76b7d932bae0c6af5e7e68bd59",
        "cctv-age/armor_empty_line_end": "15f70ba6f98d63a94fc6b574e129fbc522352d5158bbefe6ff34f3c622a16bff",
        "cctv-age/armor_eol_between_padding": "433fd104271fc8aa0d551eeac2aa0411b56be9d8637eafd1b603614c0b94b829",
        "cctv-age/armor_full_last_line": "c7156d183a95bb08fa70f154f477a03ab3cb009cb2c49747a214f70d14f2ea75",
        "cctv-age/armor_garbage_encoded": "5bdd2bb682da0eded1fce0095a4309283ad3e7dfaae80c2ad30f97f1afd07196",
        "cctv-age/armor_garbage_leading": "a7d9a59e9b4cab7f5949e37c673b295b889c0a07224c2233bedca19a9c79ceba",
        "cctv-age/armor_garbage_trailing": "392b3fa06bf646006ec9a32fb68f62b35884f2dd73f8b8fa2915987a9aaa749e",
        "cctv-age/armor_header_crlf": "f9693a00d81dd2356fd58a78668ad4fbea4fb242202c79b8053b23c394ec67d4",
        "cctv-age/armor_headers": "c9727095cdfe9ef681920b27d8af22d6390465d45af810f57ce09a4eb07c6209",
        "cctv-age/armor_hybrid": "8ad4643db707f596ebbb7eb963f3f1a3a47f185f9a9440f4b81707e72cdb8969",
        "cctv-age/armor_invalid_character_header": "9b8b32546b561bcdfd187bcdc73debb13b1f486801d74718d028a55786af4043",
        "cctv-age/armor_invalid_character_payload": "d8717528a06655a1806796f3c236f84e6007a5bd93403074da8f0fb4e1027138",
        "cctv-age/armor_long_line": "29ca018bad7f4540ddb9e2d4ff2ee5923778feda736441380c9ab9f8e77f203f",
        "cctv-age/armor_lowercase": "2f5ea43b4252004b301d932a067665b63997dfd43220f30bb63bc2c61ee04f01",
        "cctv-age/armor_no_end_line": "ef70cb17691d6069b699f6e590eb09f65c3b09448049444818576fbc0e9b412b",
        "cctv-age/armor_no_eol": "1b31d35084ec484818853a80816287169eaea3c75068b03ddb946089019c02c6",
        "cctv-age/armor_no_match": "23d5ec1592ab49363a4a0db28d5be6a9aa84674a9bfa2ce36df7624942362f28",
        "cctv-age/armor_no_padding": "0fc9a1bdad201afb7693cbbd2d987e27b86ae14d1a64c2d85ba179ea81851c06",
        "cctv-age/armor_not_canonical": "46060bb41bb836632b98adac421f16dd33ef4936a642f2d74e68795606bf1a49",
        "cctv-age/armor_pgp_checksum": "5e937a1c275d81a8b6439620ed8f260463a55f5eb0e2d7f7321f0d434577bd20",
        "cctv-age/armor_scrypt": "6720146dfdfbb3212013140477ff83cbab96cd15d466fc6305f4de095f9645cd",
        "cctv-age/armor_short_line": "824a43bcc64fd09ebd6b281063c06854df7223dca7e6f92764d4dc9c93e0ca67",
        "cctv-age/armor_whitespace_begin": "1a1534c5e8bf3345a3492a1a85fb50ff2532ae82e2bf9706cc37997ba4743804",
        "cctv-age/armor_whitespace_end": "303d276363f30dca3ed488fb10f313ffc1abfe8b7aac253469d4d186806c9a15",
        "cctv-age/armor_whitespace_eol": "87d7608aa17c1e117756ebf87cf59d39d2ecfab6a801ba652ace4c94c9de0575",
        "cctv-age/armor_whitespace_last_line": "e8cda230a4d0d9b2c2a99cc79da5d8838d9ff7aec6d2f5bbacf3c543a29e9f28",
        "cctv-age/armor_whitespace_line_start": "d53aedf66cd4dc35d672564fc5f3878a76734286e245db26e2bcfa2b4f9e277d",
        "cctv-age/armor_whitespace_outside": "ad3c12dcc189ac76deb794f9f43ad73e041114da0fbfa6674af2ba6488e7a5ba",
        "cctv-age/armor_wrong_type": "4df54e7087a4fdf16105f64c9cbeef2fe911b016d5e16163a325e3afc58c2e92",
        "cctv-age/armor_x25519": "00bd1769ef7808c4400da36f8a4072797bbebeb718cd1bc29c4e540190bdaa54",
        "cctv-age/empty": "ff529da7e7e1856024bafc0c607db28ad628e3fbcd7bc670f1d3aa2eb3ffd9ba",
        "cctv-age/header_crlf": "901e88a5fab87ff444893098fa34531be738ac5217f57bd67bfe1959f160edde",
        "cctv-age/hmac_bad": "6c820f6b9d72d01bf9409e61f1af9bbf8a542582f72c43eb3a4d78d30124ec2f",
        "cctv-age/hmac_extra_space": "7c76dd8bc42c46ba8ecd77f4a8f242ee7f3c480bf19211850c76107f715120c1",
        "cctv-age/hmac_garbage": "922a4810a35ef4b69e82e2a0428908093e2cba1e3b0ed1fd6bf954884ab7ec59",
        "cctv-age/hmac_missing": "5fa10d10a426f73a0d88231c481208146a3457e31311e1db44871904c5bf0290",
        "cctv-age/hmac_no_space": "2a3b7ea8103f1639b6755ee522c89d1463bccff6ee923c73f136e421466f13e5",
        "cctv-age/hmac_not_canonical": "d3144fdd5b468ee7e32f8a62aaf6a6e97766acb85fc707249556fcc9dc3bc0c8",
        "cctv-age/hmac_trailing_space": "bbec9b5ee2a0daef31bbb3ec5c4ffd8142a132651711c909e148ae5c93b1dd80",
        "cctv-age/hmac_truncated": "ae03de00ef5beefc29cdafc7c82818fdfa1913425a3ae43bce03acd6e6914972",
        "cctv-age/hybrid": "fbe533b82afc43a03fe48731d1fa1ab1d4f5463e514ab9400d913dc6d81e3478",
        "cctv-age/hybrid_and_x25519": "01cab0de37615d2f45a5057299911c9c8e88dc8df1e2f872ed5b463f00ab2cee",
        "cctv-age/hybrid_bad_tag": "8a963df23d9110b0cd4afb2cf51c32245eb20c4a3051d711f855421122e8ad90",
        "cctv-age/hybrid_currupted_enc_mlkem": "aa06d0ab180ccef00419558e2a11c89c90f9f135832af49b83c8f4ab30806d2b",
        "cctv-age/hybrid_currupted_enc_x25519": "26a21b919059f5247bc4239a2d3fe5943e354e2dead189247441a0ad7528a480",
        "cctv-age/hybrid_extra_argument": "dff1ac39e25056b68b9acd1644f0b69e23c8102cc106a083280887751672c4ca",
        "cctv-age/hybrid_grease": "7be76d04a0db70a5812541c892be21b93ed6667411a62ffc7f14e135a9965323",
        "cctv-age/hybrid_identity": "a529725560f9e532224c79ac845a94f4bff8d7de1093ac022f4dc99b752d5f3f",
        "cctv-age/hybrid_long_file_key": "ca759a0323fa7f655eb22637d24eab10aca3d40c1aae417e04c18f446295986d",
        "cctv-age/hybrid_long_share": "d33b3f11c181f2e49654fbe1735c11fc99f2994898dd0ab21668595683b561f1",
        "cctv-age/hybrid_low_order": "e02170572e0da84ee8748d74c42ceb8c7f5b77b12f5b29b55c57fb41face759d",
        "cctv-age/hybrid_multiple_recipients": "24e19a56312b68d9ee68b780f2ca694f91637a5566c9875519e160553207ee9b",
        "cctv-age/hybrid_no_match": "dbbb3cf9213abdd82bd27de78026efb6a24fd479e8717e6ca45e5fe1be8300b4",
        "cctv-age/hybrid_not_canonical_body": "18a5f8d39cca00b8920fe2c9ebf8437bdf47bc560a05faaa7d6fa8c89717a9c0",
        "cctv-age/hybrid_not_canonical_enc": "07f505509ca253db29346f9deeb1ebf8bd77e509785559d859619d1677d92273",
        "cctv-age/hybrid_short_share": "4a4abb0cefa5041dab5289b22a8130b9ada8e09fa97c459c7a1ef6d5d8c7ea4e",
        "cctv-age/hybrid_uppercase": "0d867b5909a32ccbd6fd7b9f32b87294438f2728e466cb1cfbf0b7da1125d6d5",
        "cctv-age/hybrid_x25519_arg": "854c17b427cea998285368e8cddeefb7447d3001d5c22f0677cff8e6eccaab2a",
        "cctv-age/scrypt": "05a7e46a24c7bff306f5c8d63fb228949744ff9bc4e532dbb10706b617eb9af1",
        "cctv-age/scrypt_and_x25519": "f7a7cf328cd697c016112fa5a424faf8311aca6c163b057fcc49374992d728d4",
        "cctv-age/scrypt_bad_tag": "1749218f013aaf02c89dd1242324c2a81390a280002d0a65b97659b570bc2229",
        "cctv-age/scrypt_double": "1f33015d6d8733922cd5757d600cbc77840e387cb568804c8d91d7f85c27d6f1",
        "cctv-age/scrypt_extra_argument": "906f5c6d9ccbdaedfa79e61c25fade75d2b43265c4d77c19743492ca5bd23fca",
        "cctv-age/scrypt_long_file_key": "9c41a2ce18c01558a18296b6f62c33e0dc9aa32a183e1d73e1cf62c785367a16",
        "cctv-age/scrypt_no_match": "f5fa6d534f70b03863d1464691be75f56c7c8632c528e4cfbbeb32801d1344b1",
        "cctv-age/scrypt_not_canonical_body": "4de0f3255ad9abdc24692ffa0e25f36b3effb94b10379a0901f79519e2db2aef",
        "cctv-age/scrypt_not_canonical_salt": "5eb73fcf81aa45abba9d19a7c48ea761758cca13664b38a6c1cd7a423469c49f",
        "cctv-age/scrypt_salt_long": "c28f4c53d34d6c59f1414b374e642cf5be0a7d03570c48004b8e7dd455775cb0",
        "cctv-age/scrypt_salt_missing": "8873fb24f4a278d239291696d988dc5d6679347ab2b11f8cfeed0c38a1912678",
        "cctv-age/scrypt_salt_short": "18d08c312d1ed3e89a3b99596e5cf312ce71a946b5e7c879d7c1a7a4267f4b15",
        "cctv-age/scrypt_uppercase": "ffdb31501483e3785ffc182aba4c9f14749209a021eabe4020df34e62f21b9d6",
        "cctv-age/scrypt_work_factor_23": "b7b2f9e9248120f57d29d326ae4217363449672d8b9f8cfe70e00a7357215b34",
        "cctv-age/scrypt_work_factor_hex": "4455424455faf2f06f0ab55542fb29ddf05f6f3c9e7cbf1a5a21e79ef571858a",
        "cctv-age/scrypt_work_factor_leading_garbage": "9c178476a3c66c161165074b00458aa9eb97a7c259bbbf826fb89bcbd065a906",
        "cctv-age/scrypt_work_factor_leading_plus": "6b9e1b99cff8721fb33760cc3be1664bf3edf1244a7f88ca06059a646f293798",
        "cctv-age/scrypt_work_factor_leading_zero_decimal": "29e813dc97137c368f0e81a6b757fcf9ec016907034aab2bcdcd5bfcd06711fe",
        "cctv-age/scrypt_work_factor_leading_zero_octal": "3d14b54f417968dbc7bf31e63bf3a1463c6371581faac545e2151d37bc6db64a",
        "cctv-age/scrypt_work_factor_missing": "36c98231f15dba77095dfa68c5431747a12f936ce418009be4da724aa49c1465",
        "cctv-age/scrypt_work_factor_negative": "a9b560a91e4f6d40904c5a7f014f35c3f3a19a15042860826ff0459e6bf6917d",
        "cctv-age/scrypt_work_factor_overflow": "0a4d7143abb811579066e7a8fc2294087de34888bd1f1feba3e46ea8f77c22b7",
        "cctv-age/scrypt_work_factor_trailing_garbage": "9c178476a3c66c161165074b00458aa9eb97a7c259bbbf826fb89bcbd065a906",
        "cctv-age/scrypt_work_factor_wrong": "9594fe8ff99f7204abb46b3241c4c27f73409c91f6f1dd8e1cc335cab4b8be8c",
        "cctv-age/scrypt_work_factor_zero": "fc2f230d62669aebbb99fce846beefc7142d5e457febeeb9e6443e41465aa629",
        "cctv-age/stanza_bad_start": "19ab7a408af2f4cff3f78d4581ad47a97c09afa15aea1120659cb39ac146bb06",
        "cctv-age/stanza_base64_padding": "513b06c5cd840af44ec7d82fb867d61fa4100f9797591f7a1331300a5ea4db9c",
        "cctv-age/stanza_empty_argument": "ef7fd2ecc1b5177e8ad8c00addbc7ea3e3512883f6b40955f9fc96d1aa622aca",
        "cctv-age/stanza_empty_body": "24b473bd2ea5e751030f1a6bf58f5d475be2f0622443379df58eb57a14db857b",
        "cctv-age/stanza_empty_last_line": "044d1e0b83e3bbe219f1609737aa970b0e3a93b8d57a120bba7853b3a5223305",
        "cctv-age/stanza_invalid_character": "2e2fbb6125d1a6edd87878df072069c738444c70c7fb983e7ac5b54aa720961a",
        "cctv-age/stanza_long_line": "534bc0e07709c1e432eafce33518a7a52ff178c851bc857b878a836391c71b54",
        "cctv-age/stanza_missing_body": "a64af2a44677038dca16c036b0c11c8cf3446aa1590842ecd5455e0a4a20af46",
        "cctv-age/stanza_missing_final_line": "aca895bdfb9bc96088479e2baa60e3bbbfdb9430cf406005832887ca7142ec44",
        "cctv-age/stanza_multiple_short_lines": "451e9bd9f69e10b5008d2b321b16d8b5b3a7a962be1d870fcd24947f3f1a6e46",
        "cctv-age/stanza_no_arguments": "7704c7fa4683e0b75aaad90ce2d1f737be973e699b0562af8e4f6670414f20fa",
        "cctv-age/stanza_not_canonical": "cc8682e12df70ae1f896e75f9e0d675472a203edf8e0676d17074e6805801dc6",
        "cctv-age/stanza_spurious_cr": "e77dbf6d96589029da3331e9116dc4d48825fe2d9f5f7648690b3bb7aa042c72",
        "cctv-age/stanza_valid_characters": "06c7dcb943ae898ca738edb2d7e941bae799f1ad0c25f9e66ae5c611a736b858",
        "cctv-age/stream_257_chunks": "bb6e88027da9ed654e2edaaf134af626b41860b2b5db4429c5ca41cddd8f8ab0",
        "cctv-age/stream_257_chunks_full": "bc9052cdc047da7dc60fabc0317322040fcbfc306b178873d1c91ea5828b191e",
        "cctv-age/stream_258_chunks": "c3b0172b7d850f05074d5644c015777acfff1fb8fb2b5aa7043db99fcdf9a505",
        "cctv-age/stream_bad_tag": "3db332d198ff83eb33e8a8df6de4f576f78d9f6c1f93e447643854554e7c0739",
        "cctv-age/stream_bad_tag_second_chunk": "2deae6c37f539a4b02cedbd9c32b9fff40191d05abac9fbf58cc03a292c18e51",
        "cctv-age/stream_bad_tag_second_chunk_full": "6ea90f2ef78cd467ec9ca4c6aed0210d54de079864d81b26dec0175785d70aad",
        "cctv-age/stream_empty_payload": "16691988f95c6461681c405cf1cd9316803670073939a49e60fbe9ed573e4599",
        "cctv-age/stream_last_chunk_empty": "6e21ae44dcb6dc73b4d49da58fcb051a469f83d5e02680a43d77b426efa5d385",
        "cctv-age/stream_last_chunk_full": "23359eea1bddc26fbf35bde8548d1620c5adc8206cb3f13c8f8d794ed0b8d797",
        "cctv-age/stream_last_chunk_full_second": "917078485d4ad9885b73ecd4084147a9aa7dfbb758e571706d4625f742ccd6a3",
        "cctv-age/stream_missing_tag": "a2e1c735ef418ddecb796c625594d90428ae82351393a53ec7db8e734007dae0",
        "cctv-age/stream_no_chunks": "2b9f79662ee69a772ea4b2bd18d5705632e26ad4417d4c10b0d8c05575367330",
        "cctv-age/stream_no_final": "b66e8504883edac5b030c5752b3daaa49f4733065c4210fbe16cb3d590a2bd05",
        "cctv-age/stream_no_final_full": "6a70a9e5f5abc9df4492869565eacdecb3b2100ea81b78e394a5687f8172926c",
        "cctv-age/stream_no_final_two_chunks": "a0840c0deb68e751e01b5d94a8bb1708f389b0f99420707c2b9fd265994f3bdd",
        "cctv-age/stream_no_final_two_chunks_full": "fdfeeb814d8207d85765f3399d872b2cd02b3cad27c910cbaaa60b46b1b8ad56",
        "cctv-age/stream_no_nonce": "68f49dde5f07e990dc959a54b8be75e10d34dc35b25a8455fa9719b27a84a828",
        "cctv-age/stream_short_chunk": "dd69481b40f39bc7ac768a71502752d4e8065f7a8383225d169f9d597591d225",
        "cctv-age/stream_short_nonce": "0d5ab61ec20d6cb80d0da7d6f22b04e31d04d990ac625cda7bf5379ea673dc3d",
        "cctv-age/stream_short_second_chunk": "7216c1f615e0586de4fcfc83092eeafece0fc9286005f24f864b0955b72afa8b",
        "cctv-age/stream_three_chunks": "af71985fdcf156cba3290d4c8e668e825a4410d301378af6c857159bc7a56fd6",
        "cctv-age/stream_trailing_garbage_long": "542fd4fca86618b8af8127341cbd59350b12692cde0cab9553e4d3d8d22d3150",
        "cctv-age/stream_trailing_garbage_short": "df8d607d6519ce6767a8ae629f22211282ded11576fff15b9ca39f6adf546539",
        "cctv-age/stream_two_chunks": "917078485d4ad9885b73ecd4084147a9aa7dfbb758e571706d4625f742ccd6a3",
        "cctv-age/stream_two_final_chunks": "5eabae499e2025ea808dcdf07f2f53799f242413be17c40b071fa28f4a3b58cb",
        "cctv-age/stream_two_final_chunks_full": "2a0c6e3ee8b42b859772c559e78a1c4b762a3d4c70c1f2ef94d08993e8999381",
        "cctv-age/stream_two_final_chunks_second": "59913c3798979f39855930e386a2a1fd9f4e782714a0bbc7a2548f18eb75da1f",
        "cctv-age/stream_two_final_chunks_short": "0dce18529119ae7944f792b281aa962b3403ba049d12e676a9a5a6f2e4a4fa73",
        "cctv-age/version_unsupported": "0cf184f8c9642c3d0b644964477732fb8c8bbff936bda058ae24455801fa9ed1",
        "cctv-age/x25519": "1e3d96f7b107a12cb5a2f126c8cfcb6094dbf561f973578a2c76a0ca99e19ad5",
        "cctv-age/x25519_bad_tag": "7db3d8eade7b545889220b2a01e1bcb6d4522aa1042f3db978d96cb20e8804e9",
        "cctv-age/x25519_extra_argument": "8e00dc4fd2223dc7ae6b05259137c4bd2f0d6a4d54334d91b6701756ea2c4be6",
        "cctv-age/x25519_grease": "ed25d5048c9ca4a142ab02122a52e0546ebd0a55d6d8bc08d24f3df9b47e545a",
        "cctv-age/x25519_identity": "914bb7be47973a1edb51e7d28b74bdeb66de5b1fbb5de3d5c743a2119c2a04cd",
        "cctv-age/x25519_long_file_key": "85483bd1edc0379e24634cd008fbd5e3395da8461f278a1bf898ec9759d2df76",
        "cctv-age/x25519_long_share": "8b4ae2d90825b5e00b2eade3415bb4a10b9ca4df6e0f01baef7110ff06dec821",
        "cctv-age/x25519_low_order": "41760b90233342ceae83f38203e6caa3ffbfc909e6981bd63f86f8cb9b2a3911",
        "cctv-age/x25519_lowercase": "65b96cec97cc0616b7f9f9ca20b66ace9599db649992b1e25fb69a74e6779362",
        "cctv-age/x25519_multiple_recipients": "a2fe2aef0479d146388e8d7195ae1d28c394c44817f422d17ce029071433b417",
        "cctv-age/x25519_no_match": "4a157e6680fa628c68390fb112d934fd82d2247cd531885074aaddf098549938",
        "cctv-age/x25519_not_canonical_body": "d9f5a7e5b0e16dbcbbd93e79c1cb0aa1db7caa40d66543b932305c04050b1aac",
        "cctv-age/x25519_not_canonical_share": "2c0efdf3335fa7fb665d0a7a0f02b5993372dc22607d2f8caa639aa58e81d7a6",
        "cctv-age/x25519_short_share": "803eeb1bb173ef88944d5a80754e845e44ed4daa9aa2cf82558862f5e213fbc4",
        "aes-cbc/CBCGFSbox128.rsp": "b012f93e1dbd377871a25aca339f5b831c907e1f02bb3cdfe35e205d93068c72",
        "aes-cbc/CBCGFSbox256.rsp": "3889c77d6868533acfd405461cbe27d463b698e04134ee56aa115b686b2b6f15",
        "aes-cbc/CBCKeySbox128.rsp": "2ce7b90f82b31b67a1387faebb88727078c496ab9aabc888bc046bc89c000908",
        "aes-cbc/CBCKeySbox256.rsp": "299d835f9628c47eb85bd85fcec60d230ffeb22ef809ee50dcb3b9a63d448e9a",
        "aes-cbc/CBCMMT128.rsp": "0efb7c934de760a70aa6081b8df410c7ce50669a45c2679e3a89c83cbef96963",
        "aes-cbc/CBCMMT256.rsp": "0931275d9069e240b5aacb6ee605789962717f7cb1515a240096faea165ad581",
        "aes-cbc/CBCVarKey128.rsp": "bbf16c467fbae3ecc3c76292742928ad31f6dcba53f498625b61bf19c396c590",
        "aes-cbc/CBCVarKey256.rsp": "c3b44767b3b028a71ebad67a60170b9f601dce4e4c5dc7108b44c8ecad1bd5ac",
        "aes-cbc/CBCVarTxt128.rsp": "b5239bd0a26c32430a9ac433fcd22c9561074fc0f0f100dbfd7d27268d714349",
        "aes-cbc/CBCVarTxt256.rsp": "8762e7eff65aae6a7852295678e35e84027bbdae707131c5dff695dad61de283",
        "ed25519/rfc8032_section7.1.json": "2983f7d5c87c3fcfae08d83aaf76c15034c1d4f94dacdd43b5575e283c6637f6",
        "ed25519/sign.input": "1d9a179d92c0b2fb4afc55cd455c05a5e65403c4cb2a3541a54c022bfb6707be",
        "wycheproof/ed25519_test.json": "c65e52534126c5756d4387977b891bc579217fe28146b43f6cbee9da4e693cc8",
        "wycheproof/xchacha20_poly1305_test.json": "d8252b984183ddc2b825a38d30f8248f451e119db66f6857301591f0033620f0",
        "xchacha20poly1305/draft-irtf-cfrg-xchacha-03_A.3.1.json": "b3f98f7f2ca65324ff94321c75d3ebf6c1e9738627748824a03cebefbd4b61f7",
    ]
}

// MARK: - NIST CAVP `.rsp` files (AES-CBC)

/// Record counts per file, as stated in `Fixtures/vectors/README.md` ([ENCRYPT] + [DECRYPT]).
let cavpFileCounts: [(file: String, records: Int)] = [
    ("CBCGFSbox128.rsp", 14), ("CBCGFSbox256.rsp", 10),
    ("CBCKeySbox128.rsp", 42), ("CBCKeySbox256.rsp", 32),
    ("CBCVarKey128.rsp", 256), ("CBCVarKey256.rsp", 512),
    ("CBCVarTxt128.rsp", 256), ("CBCVarTxt256.rsp", 256),
    ("CBCMMT128.rsp", 20), ("CBCMMT256.rsp", 20),
]

struct CAVPRecord: Sendable, CustomStringConvertible {
    enum Section: String, Sendable { case encrypt = "ENCRYPT", decrypt = "DECRYPT" }
    let file: String
    let line: Int
    let section: Section
    let count: Int
    let key: [UInt8]
    let iv: [UInt8]
    let plaintext: [UInt8]
    let ciphertext: [UInt8]

    var description: String { "\(file):\(line) [\(section.rawValue)] COUNT = \(count)" }
}

enum CAVP {
    /// Parses a NIST AESAVS `.rsp` response file. Each record must have exactly the
    /// fields COUNT, KEY, IV, PLAINTEXT, CIPHERTEXT in the order NIST writes them
    /// (CIPHERTEXT before PLAINTEXT in [DECRYPT]); anything else is an error.
    static func parse(_ text: String, file: String) throws -> [CAVPRecord] {
        var records: [CAVPRecord] = []
        var section: CAVPRecord.Section?
        var pending: [(name: String, value: String)] = []
        var pendingLine = 0
        var expectedCount = 0

        func flush() throws {
            guard !pending.isEmpty else { return }
            guard let section else { throw VectorError("\(file):\(pendingLine): record before any section header") }
            let order = section == .encrypt
                ? ["COUNT", "KEY", "IV", "PLAINTEXT", "CIPHERTEXT"]
                : ["COUNT", "KEY", "IV", "CIPHERTEXT", "PLAINTEXT"]
            let names = pending.map(\.name)
            guard names == order else {
                throw VectorError("\(file):\(pendingLine): fields \(names), expected \(order)")
            }
            var fields: [String: String] = [:]
            for (name, value) in pending { fields[name] = value }
            let where_ = "\(file):\(pendingLine)"
            guard let count = Int(fields["COUNT"]!), count == expectedCount else {
                throw VectorError("\(where_): COUNT \(fields["COUNT"]!) out of sequence, expected \(expectedCount)")
            }
            let record = CAVPRecord(
                file: file, line: pendingLine, section: section, count: count,
                key: try hex(fields["KEY"]!, "\(where_) KEY"),
                iv: try hex(fields["IV"]!, "\(where_) IV"),
                plaintext: try hex(fields["PLAINTEXT"]!, "\(where_) PLAINTEXT"),
                ciphertext: try hex(fields["CIPHERTEXT"]!, "\(where_) CIPHERTEXT"))
            guard [16, 24, 32].contains(record.key.count) else {
                throw VectorError("\(where_): KEY is \(record.key.count) bytes")
            }
            guard record.iv.count == 16 else { throw VectorError("\(where_): IV is \(record.iv.count) bytes") }
            guard !record.plaintext.isEmpty, record.plaintext.count % 16 == 0,
                  record.ciphertext.count == record.plaintext.count else {
                throw VectorError("\(where_): PLAINTEXT/CIPHERTEXT are \(record.plaintext.count)/\(record.ciphertext.count) bytes")
            }
            records.append(record)
            expectedCount += 1
            pending = []
        }

        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, rawLine) in lines.enumerated() {
            let lineNumber = index + 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.hasPrefix("#") { continue }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
                try flush()
                continue
            }
            if line.hasPrefix("[") {
                try flush()
                guard line.hasSuffix("]"), let next = CAVPRecord.Section(rawValue: String(line.dropFirst().dropLast())) else {
                    throw VectorError("\(file):\(lineNumber): unknown section \(line)")
                }
                guard section != next, !(section == nil && next == .decrypt) else {
                    throw VectorError("\(file):\(lineNumber): unexpected section order at \(line)")
                }
                section = next
                expectedCount = 0
                continue
            }
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw VectorError("\(file):\(lineNumber): malformed line \(line)") }
            let name = parts[0].trimmingCharacters(in: .whitespaces)
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            guard ["COUNT", "KEY", "IV", "PLAINTEXT", "CIPHERTEXT"].contains(name) else {
                throw VectorError("\(file):\(lineNumber): unknown key \(name)")
            }
            guard !value.isEmpty else { throw VectorError("\(file):\(lineNumber): empty value for \(name)") }
            if name == "COUNT" {
                try flush()
                pendingLine = lineNumber
            } else if pending.isEmpty {
                throw VectorError("\(file):\(lineNumber): \(name) outside a record (no COUNT)")
            }
            pending.append((name, value))
        }
        try flush()
        guard section == .decrypt else { throw VectorError("\(file): missing [DECRYPT] section") }
        return records
    }

    static func load(_ file: String) throws -> [CAVPRecord] {
        try parse(try Fixtures.text("aes-cbc/\(file)"), file: file)
    }
}

// MARK: - ed25519/sign.input

struct SignInputVector: Sendable {
    let line: Int
    let seed: [UInt8]
    /// `seed ‖ public key`, libsodium's secret key layout (the file's SK field).
    let secretKey: [UInt8]
    let publicKey: [UInt8]
    let message: [UInt8]
    let signature: [UInt8]
}

enum SignInput {
    static let expectedLines = 1024

    /// Parses `SK:PK:MSG:SM:` lines. Every line must have exactly five fields, the
    /// last empty; SK must end with PK; SM must be a 64-byte signature followed by MSG;
    /// line n must carry an (n − 1)-byte message.
    static func parse(_ text: String) throws -> [SignInputVector] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.last == "" else { throw VectorError("sign.input: no final newline") }
        lines.removeLast()
        var vectors: [SignInputVector] = []
        vectors.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() {
            let n = index + 1
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 5, fields[4].isEmpty else {
                throw VectorError("sign.input:\(n): expected 5 colon-separated fields (last empty), got \(fields.count)")
            }
            let sk = try hex(String(fields[0]), "sign.input:\(n) SK")
            let pk = try hex(String(fields[1]), "sign.input:\(n) PK")
            let msg = try hex(String(fields[2]), "sign.input:\(n) MSG")
            let sm = try hex(String(fields[3]), "sign.input:\(n) SM")
            guard sk.count == 64, pk.count == 32, Array(sk[32...]) == pk else {
                throw VectorError("sign.input:\(n): SK is not 32-byte seed ‖ PK")
            }
            guard msg.count == n - 1 else { throw VectorError("sign.input:\(n): message is \(msg.count) bytes") }
            guard sm.count == 64 + msg.count, Array(sm[64...]) == msg else {
                throw VectorError("sign.input:\(n): SM is not signature ‖ MSG")
            }
            vectors.append(SignInputVector(line: n, seed: Array(sk[..<32]), secretKey: sk, publicKey: pk,
                                           message: msg, signature: Array(sm[..<64])))
        }
        return vectors
    }

    static func load() throws -> [SignInputVector] { try parse(try Fixtures.text("ed25519/sign.input")) }
}

// MARK: - Strict JSON decoding

enum StrictJSON {
    /// Decodes `T` and then fails if the file has any key that `T` does not model:
    /// the decoded value is re-encoded and every key path of the original must reappear.
    static func decode<T: Codable>(_ type: T.Type, from data: Data, file: String) throws -> T {
        let value = try JSONDecoder().decode(T.self, from: data)
        let original = try JSONSerialization.jsonObject(with: data)
        let reencoded = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(value))
        var originalPaths = Set<String>(), modelledPaths = Set<String>()
        collectKeyPaths(original, prefix: "$", into: &originalPaths)
        collectKeyPaths(reencoded, prefix: "$", into: &modelledPaths)
        let unexpected = originalPaths.subtracting(modelledPaths)
        guard unexpected.isEmpty else {
            throw VectorError("\(file): unexpected keys \(unexpected.sorted())")
        }
        return value
    }

    private static func collectKeyPaths(_ object: Any, prefix: String, into paths: inout Set<String>) {
        if let dictionary = object as? [String: Any] {
            for (key, child) in dictionary {
                let path = "\(prefix).\(key)"
                paths.insert(path)
                collectKeyPaths(child, prefix: path, into: &paths)
            }
        } else if let array = object as? [Any] {
            for child in array { collectKeyPaths(child, prefix: "\(prefix)[]", into: &paths) }
        }
    }

    static func load<T: Codable>(_ type: T.Type, _ relativePath: String) throws -> T {
        try decode(type, from: try Fixtures.data(relativePath), file: relativePath)
    }
}

// MARK: - Wycheproof (schema v1)

enum WycheproofResult: String, Codable, Sendable { case valid, invalid, acceptable }

struct WycheproofNote: Codable, Sendable {
    let bugType: String
    let description: String
    let effect: String?
    let links: [String]?
}

struct WycheproofSource: Codable, Sendable {
    let name: String
    let version: String
}

/// `wycheproof/xchacha20_poly1305_test.json` (aead_test_schema_v1.json).
struct WycheproofAEADFile: Codable, Sendable {
    struct Group: Codable, Sendable {
        let type: String
        let source: WycheproofSource
        let ivSize: Int
        let keySize: Int
        let tagSize: Int
        let tests: [Test]
    }
    struct Test: Codable, Sendable {
        let tcId: Int
        let comment: String
        let flags: [String]
        let key: String
        let iv: String
        let aad: String
        let msg: String
        let ct: String
        let tag: String
        let result: WycheproofResult
    }
    let algorithm: String
    let schema: String
    let numberOfTests: Int
    let header: [String]
    let notes: [String: WycheproofNote]
    let testGroups: [Group]

    static let expectedCases = 315
    static func load() throws -> WycheproofAEADFile {
        try StrictJSON.load(Self.self, "wycheproof/xchacha20_poly1305_test.json")
    }
}

/// `wycheproof/ed25519_test.json` (eddsa_verify_schema_v1.json).
struct WycheproofEdDSAFile: Codable, Sendable {
    struct PublicKey: Codable, Sendable {
        let type: String
        let curve: String
        let keySize: Int
        let pk: String
    }
    struct JWK: Codable, Sendable {
        let kty: String
        let crv: String
        let kid: String
        let x: String
    }
    struct Group: Codable, Sendable {
        let type: String
        let source: WycheproofSource
        let publicKey: PublicKey
        let publicKeyDer: String
        let publicKeyPem: String
        let publicKeyJwk: JWK?
        let tests: [Test]
    }
    struct Test: Codable, Sendable {
        let tcId: Int
        let comment: String
        let flags: [String]
        let msg: String
        let sig: String
        let result: WycheproofResult
    }
    let algorithm: String
    let schema: String
    let numberOfTests: Int
    let header: [String]
    let notes: [String: WycheproofNote]
    let testGroups: [Group]

    static let expectedCases = 210
    static func load() throws -> WycheproofEdDSAFile {
        try StrictJSON.load(Self.self, "wycheproof/ed25519_test.json")
    }
}

// MARK: - RFC 8032 and draft-irtf-cfrg-xchacha JSON

/// `ed25519/rfc8032_section7.1.json`.
struct RFC8032File: Codable, Sendable {
    struct Vector: Codable, Sendable {
        let name: String
        let secret_key: String
        let public_key: String
        let message: String
        let message_length: Int
        let signature: String
        let origin: String
    }
    let description: String
    let source: String
    let vectors: [Vector]

    static let expectedVectors = 5
    static func load() throws -> RFC8032File { try StrictJSON.load(Self.self, "ed25519/rfc8032_section7.1.json") }
}

/// `xchacha20poly1305/draft-irtf-cfrg-xchacha-03_A.3.1.json`.
struct XChaChaDraftFile: Codable, Sendable {
    let name: String
    let source: String
    let algorithm: String
    let key: String
    let nonce: String
    let aad: String
    let plaintext: String
    let ciphertext: String
    let tag: String
    let poly1305_key: String
    let note: String

    static func load() throws -> XChaChaDraftFile {
        try StrictJSON.load(Self.self, "xchacha20poly1305/draft-irtf-cfrg-xchacha-03_A.3.1.json")
    }
}

// MARK: - Per-vector error reporting

/// Runs the checks of one vector. An unexpected thrown error is recorded against `id` and
/// the caller's loop carries on with the next vector, so one bad case cannot hide others.
func checking(_ id: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation,
              _ body: () throws -> Void) {
    do {
        try body()
    } catch {
        Issue.record("\(id()): unexpected error: \(error)", sourceLocation: sourceLocation)
    }
}
