#!/usr/bin/env ruby
# frozen_string_literal: true
#
# The YAML 1.1 oracle for ArticleVault's front matter: what Jekyll publishes is what Ruby's
# Psych reads (`YAML.safe_load`). Reads JSON Lines, one object per line:
#
#   {"yaml": "<front matter text>", "ours": "<avault's canonical JSON of the fields>" | null}
#
# ("ours" is null when avault refused the front matter). For every accepted document, loads
# "yaml" with Psych and checks that it reads exactly the values avault signs:
#   - Hash, Array, String, true, false, nil: equal exactly (keys must be Strings);
#   - numbers: numerically and of the same class (1 and 1.0 are not the same; NaN equals nothing);
#   - a Time or Date that Psych makes of an unquoted timestamp or date, against our string s:
#     s re-read by Psych's own ScalarScanner must give the same instant (Time#==) or date, and
#     a Time must have the fields s writes (none rolled over).
# Prints one line per mismatch, then a summary line `checked N accepted, M refused`, and
# exits 1 when there is any mismatch (2 on bad input).
#
#   ruby Tests/interop/psych_oracle.rb FILE.jsonl      (or the lines on standard input)

require 'json'
require 'yaml'
require 'date'

# Psych's scanner with a class loader that may build only Time and Date.
SCANNER = Psych::ScalarScanner.new(Psych::ClassLoader::Restricted.new(%w[Time Date], []))

def rescan(string)
  SCANNER.tokenize(string)
rescue StandardError
  nil
end

# Whether the Time `psych` has the date and time written in `text` (Time.utc rolls a day past
# the month's end, hour 24 and second 60 over: `2023-02-30` is March 2). Without a zone, Psych
# makes a local Time of the fields read as UTC.
# A zone must be the offset written (Psych reads `+123` as +12:03 and `-00:30` as +00:30).
def same_fields?(psych, text)
  m = text.match(/\A(-?\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt]|\s+)(\d{1,2}):(\d\d):(\d\d)(?:\.\d*)?\s*(Z|([-+])(\d{1,2})(?::?(\d\d))?)?\z/)
  return false if m.nil?

  t = m[7].nil? ? psych.getutc : psych
  return false unless [t.year, t.mon, t.day, t.hour, t.min, t.sec] == m[1..6].map { |x| Integer(x, 10) }
  return true if m[7].nil?

  offset = m[7] == 'Z' ? 0 : (m[8] == '-' ? -1 : 1) * (Integer(m[9], 10) * 3600 + Integer(m[10] || '0', 10) * 60)
  t.utc_offset == offset
end

# Whether Psych's value `psych` is what avault's JSON value `ours` says.
def same?(psych, ours)
  case psych
  when Hash
    ours.is_a?(Hash) && psych.size == ours.size &&
      psych.all? { |k, v| k.is_a?(String) && ours.key?(k) && same?(v, ours[k]) }
  when Array
    ours.is_a?(Array) && psych.size == ours.size && psych.zip(ours).all? { |a, b| same?(a, b) }
  when String
    ours.is_a?(String) && psych.encoding == Encoding::UTF_8 && psych == ours
  when true, false, nil
    ours.equal?(psych)
  when Integer, Float
    # Of the same class: `1.0` and `1` have one canonical form, read as a Float and an Integer.
    ours.is_a?(psych.class) && psych == ours
  when Time
    ours.is_a?(String) && (t = rescan(ours)).is_a?(Time) && t == psych && same_fields?(psych, ours)
  when Date # (DateTime is a Date; safe_load does not make one)
    ours.is_a?(String) && (d = rescan(ours)).instance_of?(Date) && d == psych
  else
    false # Symbol, or anything else: never a JSON value
  end
end

input = ARGV.empty? ? $stdin : File.open(ARGV[0], 'r:UTF-8')
mismatches = 0
accepted = 0
refused = 0
input.each_line(chomp: true).with_index(1) do |line, number|
  next if line.empty?

  begin
    item = JSON.parse(line)
  rescue JSON::ParserError => e
    warn "psych_oracle: line #{number}: not JSON: #{e.message}"
    exit 2
  end
  yaml = item.fetch('yaml')
  if item['ours'].nil?
    refused += 1
    next
  end
  accepted += 1
  ours = JSON.parse(item['ours'])
  begin
    # As Jekyll hands it to Psych: with the opening fence line, which starts the first document.
    psych = YAML.safe_load("---\n#{yaml}", permitted_classes: [Time, Date, Symbol], aliases: true)
    psych = {} if psych.nil? || psych == false
  rescue Exception => e # rubocop:disable Lint/RescueException -- any failure to read is a mismatch
    psych = e
  end
  next if !psych.is_a?(Exception) && same?(psych, ours)

  mismatches += 1
  puts "MISMATCH #{number}: yaml=#{yaml.inspect} psych=#{psych.inspect} ours=#{item['ours']}"
end
puts "checked #{accepted} accepted, #{refused} refused, #{mismatches} mismatches"
exit(mismatches.zero? ? 0 : 1)
