/// Splits a `launch_command` string into argv by shell-like quoting rules, without any expansion
/// (docs/methods.md#threadchildspawn): `;` `|` `&` `<` `>` `$(` and backticks outside quotes are refused.
public enum CommandSplitter {
    public static func split(_ s: String) throws -> [String] {
        var out: [String] = []
        var cur = ""
        var inWord = false
        var quote: Character?
        var it = Array(s)
        var i = 0
        func refuse(_ what: String) -> CodestratorError {
            CodestratorError(
                .invalidParams, "launch_command contains \(what) outside quotes",
                expected: "a plain command line (use launch_argv)", field: "launch_command")
        }
        while i < it.count {
            let c = it[i]
            if let q = quote {
                if c == q {
                    quote = nil
                } else if c == "\\" && q == "\"" && i + 1 < it.count && "\"\\$`".contains(it[i + 1]) {
                    i += 1
                    cur.append(it[i])
                } else {
                    cur.append(c)
                }
            } else if c == "'" || c == "\"" {
                quote = c
                inWord = true
            } else if c == "\\" && i + 1 < it.count {
                i += 1
                cur.append(it[i])
                inWord = true
            } else if c == " " || c == "\t" || c == "\n" {
                if inWord { out.append(cur) }
                cur = ""
                inWord = false
            } else if ";|&<>`".contains(c) {
                throw refuse("\"\(c)\"")
            } else if c == "$" && i + 1 < it.count && it[i + 1] == "(" {
                throw refuse("\"$(\"")
            } else {
                cur.append(c)
                inWord = true
            }
            i += 1
        }
        if quote != nil {
            throw CodestratorError(
                .invalidParams, "launch_command has an unterminated quote", expected: "balanced quotes",
                field: "launch_command")
        }
        if inWord { out.append(cur) }
        it = []
        return out
    }
}
