/// Where each part of the screen goes: header, banner, view title, body and status line.
///
/// ```
/// row 0      header: muster · context · broker · elapsed
/// row 1      header: counts by state · registered/expected
/// row 2      header: a meter of nodes by state · a sparkline of the last minutes
/// (row 3)    banner while the connection is lost
/// next       the view's title rule (tabs, filter)
/// …          body: the view's rows
/// last       status line (the keys of the view), or the prompt while typing
/// ```
public struct ConsoleLayout: Sendable, Hashable {
    /// The smallest screen the console draws on; smaller screens get a one-line notice.
    public static let minimumSize = ScreenSize(width: 40, height: 10)
    /// The header's rows.
    public static let headerRows = 3

    /// The screen.
    public var size: ScreenSize
    /// The banner row, when the connection is interrupted.
    public var banner: Int?
    /// The view title row.
    public var title: Int
    /// The body rows.
    public var body: Range<Int>
    /// The status (and prompt) row.
    public var status: Int

    /// Lays out a screen.
    public init(size: ScreenSize, banner: Bool) {
        self.size = size
        self.banner = banner ? Self.headerRows : nil
        title = Self.headerRows + (banner ? 1 : 0)
        status = max(0, size.height - 1)
        body = (title + 1)..<max(title + 1, status)
    }

    /// Whether the screen is big enough to draw the console.
    public var isUsable: Bool { size.width >= Self.minimumSize.width && size.height >= Self.minimumSize.height }
}
