import Foundation

/// The terminal's clipboard, set with OSC 52 (`ESC ] 52 ; c ; BASE64 BEL`): xterm, kitty, iTerm2, WezTerm, tmux
/// (with `set-clipboard on`) and most others take it, also over ssh; terminals that do not know it ignore it.
public enum ClipboardSequence {
    /// The sequence that puts `text` on the clipboard (`c`): the text's UTF-8 in base64, ended by BEL.
    public static func osc52(_ text: String) -> String {
        "\u{1B}]52;c;" + Data(text.utf8).base64EncodedString() + "\u{07}"
    }
}
