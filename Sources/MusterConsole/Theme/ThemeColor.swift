import Foundation

/// A colour in a theme: the terminal's default, one of the 16 ANSI colours, a 256-colour index or an RGB value.
public enum ThemeColor: Sendable, Hashable, CustomStringConvertible {
    /// The terminal's own default foreground or background.
    case terminalDefault
    /// ANSI colour 0–15 (0–7 normal, 8–15 bright).
    case ansi(Int)
    /// xterm 256-colour index 0–255.
    case indexed(Int)
    /// A 24-bit colour.
    case rgb(UInt8, UInt8, UInt8)

    /// The names a theme file may use, with their ANSI numbers.
    public static let names: [(name: String, ansi: Int)] = [
        ("black", 0), ("red", 1), ("green", 2), ("yellow", 3), ("blue", 4), ("magenta", 5), ("cyan", 6), ("white", 7),
        ("bright-black", 8), ("gray", 8), ("grey", 8), ("bright-red", 9), ("bright-green", 10), ("bright-yellow", 11),
        ("bright-blue", 12), ("bright-magenta", 13), ("bright-cyan", 14), ("bright-white", 15),
    ]

    /// Parses `default`, a colour name, `#rrggbb`, `#rgb` or `0`–`255`; nil when the text is none of these.
    public init?(parsing text: String) {
        let value = text.trimmingCharacters(in: .whitespaces).lowercased()
        if value == "default" || value == "none" {
            self = .terminalDefault
        } else if let named = Self.names.first(where: { $0.name == value }) {
            self = .ansi(named.ansi)
        } else if value.hasPrefix("#") {
            let digits = Array(value.dropFirst())
            guard digits.allSatisfy(\.isHexDigit), digits.count == 6 || digits.count == 3 else { return nil }
            let expanded = digits.count == 3 ? digits.flatMap { [$0, $0] } : digits
            let number = Int(String(expanded), radix: 16)!
            self = .rgb(UInt8(number >> 16 & 0xFF), UInt8(number >> 8 & 0xFF), UInt8(number & 0xFF))
        } else if let index = Int(value), (0...255).contains(index) {
            self = index < 16 ? .ansi(index) : .indexed(index)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .terminalDefault: return "default"
        case .ansi(let number): return Self.names.first { $0.ansi == number }?.name ?? "\(number)"
        case .indexed(let index): return "\(index)"
        case .rgb(let red, let green, let blue): return "#" + [red, green, blue].map { hex($0) }.joined()
        }
    }

    /// The RGB value (xterm's palette for ANSI and indexed colours); nil for the terminal default.
    public var rgbValue: (red: Int, green: Int, blue: Int)? {
        switch self {
        case .terminalDefault: return nil
        case .rgb(let red, let green, let blue): return (Int(red), Int(green), Int(blue))
        case .ansi(let number): return Self.xterm(number)
        case .indexed(let index): return Self.xterm(index)
        }
    }

    /// The palette index to ask a terminal with `colors` colours for (-1 for the default): exact for ANSI and
    /// indexed colours it has, otherwise the nearest colour it has.
    public func paletteIndex(colors: Int) -> Int {
        switch self {
        case .terminalDefault: return -1
        case .ansi(let number):
            return number < colors ? number : number % 8
        case .indexed(let index) where index < colors:
            return index
        default:
            guard let (red, green, blue) = rgbValue else { return -1 }
            let candidates = colors >= 256 ? 256 : (colors >= 16 ? 16 : 8)
            return Self.nearest(red, green, blue, among: candidates)
        }
    }

    /// The nearest xterm palette entry among the first `count` (8, 16 or 256).
    static func nearest(_ red: Int, _ green: Int, _ blue: Int, among count: Int) -> Int {
        var best = 0
        var bestDistance = Int.max
        // In 256-colour mode the 16 ANSI entries are skipped: terminals redefine them freely.
        let range = count >= 256 ? 16..<256 : 0..<count
        for index in range {
            let (r, g, b) = xterm(index)
            let distance = (r - red) * (r - red) * 3 + (g - green) * (g - green) * 4 + (b - blue) * (b - blue) * 2
            if distance < bestDistance {
                bestDistance = distance
                best = index
            }
        }
        return best
    }

    /// xterm's default RGB value for a palette index.
    static func xterm(_ index: Int) -> (Int, Int, Int) {
        let ansi: [(Int, Int, Int)] = [
            (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
            (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
        ]
        if index < 16 { return ansi[max(0, index)] }
        if index < 232 {
            let steps = [0, 95, 135, 175, 215, 255]
            let cube = index - 16
            return (steps[cube / 36], steps[cube / 6 % 6], steps[cube % 6])
        }
        let gray = 8 + (min(index, 255) - 232) * 10
        return (gray, gray, gray)
    }
}

private func hex(_ value: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(value >> 4)], digits[Int(value & 0xF)]])
}
