//! Turns SOQL text into tokens with 1-based line/column positions.
//! Strings are decoded and date/datetime literals validated here, so the parser sees typed values.

use crate::ast::{Date, DateTime};
use crate::ParseError;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Tok {
    /// Identifier or keyword; keywords are recognised by the parser, case-insensitively.
    Word,
    /// String literal; its decoded text is `Lexed::strings[i]` (kept aside so tokens stay `Copy`).
    Str(usize),
    /// Unsigned integer literal (text kept in the source slice).
    Int,
    /// Unsigned decimal literal with a fraction.
    Dec,
    Date(Date),
    DateTime(DateTime),
    LParen,
    RParen,
    Comma,
    Dot,
    Colon,
    Eq,
    Ne,
    LtGt,
    Lt,
    Le,
    Gt,
    Ge,
    Minus,
    Plus,
    LBracket,
    RBracket,
    Question,
    Eof,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub kind: Tok,
    /// Byte offsets into the source.
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub column: usize,
}

/// Tokens (ending with `Eof`) and the decoded string literals they refer to.
pub(crate) struct Lexed {
    pub tokens: Vec<Token>,
    pub strings: Vec<String>,
}

pub(crate) fn tokenize(src: &str) -> Result<Lexed, ParseError> {
    let mut lx = Lexer {
        src,
        bytes: src.as_bytes(),
        pos: 0,
        line: 1,
        col: 1,
        strings: Vec::new(),
    };
    // Rough guess (a token every ~5 bytes) saves most regrowth.
    let mut out = Vec::with_capacity(src.len() / 5 + 2);
    loop {
        lx.skip_ws();
        let (start, line, column) = (lx.pos, lx.line, lx.col);
        let kind = match lx.peek() {
            None => {
                out.push(Token {
                    kind: Tok::Eof,
                    start,
                    end: start,
                    line,
                    column,
                });
                return Ok(Lexed {
                    tokens: out,
                    strings: lx.strings,
                });
            }
            Some(c) => lx.token(c)?,
        };
        out.push(Token {
            kind,
            start,
            end: lx.pos,
            line,
            column,
        });
    }
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    col: usize,
    strings: Vec<String>,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.bytes.get(self.pos + n).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.bump();
            } else {
                break;
            }
        }
    }

    fn err_here(&self, message: String) -> ParseError {
        ParseError {
            line: self.line,
            column: self.col,
            message,
        }
    }

    fn token(&mut self, c: char) -> Result<Tok, ParseError> {
        let single = |lx: &mut Self, t: Tok| {
            lx.bump();
            Ok(t)
        };
        match c {
            '(' => single(self, Tok::LParen),
            ')' => single(self, Tok::RParen),
            ',' => single(self, Tok::Comma),
            '.' => single(self, Tok::Dot),
            ':' => single(self, Tok::Colon),
            '=' => single(self, Tok::Eq),
            '-' => single(self, Tok::Minus),
            '+' => single(self, Tok::Plus),
            '[' => single(self, Tok::LBracket),
            ']' => single(self, Tok::RBracket),
            '?' => single(self, Tok::Question),
            '!' => {
                if self.peek_at(1) == Some(b'=') {
                    self.bump();
                    self.bump();
                    Ok(Tok::Ne)
                } else {
                    Err(self.err_here("unexpected character '!' (did you mean '!='?)".into()))
                }
            }
            '<' => {
                self.bump();
                match self.peek() {
                    Some('=') => {
                        self.bump();
                        Ok(Tok::Le)
                    }
                    Some('>') => {
                        self.bump();
                        Ok(Tok::LtGt)
                    }
                    _ => Ok(Tok::Lt),
                }
            }
            '>' => {
                self.bump();
                if self.peek() == Some('=') {
                    self.bump();
                    Ok(Tok::Ge)
                } else {
                    Ok(Tok::Gt)
                }
            }
            '\'' => self.string(),
            c if c.is_ascii_digit() => self.number_or_date(),
            c if is_ident_start(c) => {
                self.word();
                Ok(Tok::Word)
            }
            '"' => {
                Err(self
                    .err_here("unexpected character '\"': SOQL strings use single quotes".into()))
            }
            other => Err(self.err_here(format!("unexpected character '{}'", other.escape_debug()))),
        }
    }

    fn word(&mut self) {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if is_ident_char(c)) {
            self.bump();
        }
        // A currency literal such as `usd500.01` keeps its fraction in the same word: three
        // letters then digits, then `.digit`. Field paths never have a digit after a dot.
        let w = &self.src[start..self.pos];
        let is_currency_head = w.len() > 3
            && w.as_bytes()[..3].iter().all(u8::is_ascii_alphabetic)
            && w.as_bytes()[3..].iter().all(u8::is_ascii_digit);
        if is_currency_head
            && self.peek_at(0) == Some(b'.')
            && self.peek_at(1).is_some_and(|b| b.is_ascii_digit())
        {
            self.bump();
            while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
                self.bump();
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
            self.bump();
        }
        self.pos - start
    }

    fn number_or_date(&mut self) -> Result<Tok, ParseError> {
        let (line, col) = (self.line, self.col);
        let start = self.pos;
        let n = self.digits();
        // `YYYY-MM-DD` starts a date; anything else with digits is a number.
        if n == 4
            && self.peek_at(0) == Some(b'-')
            && self.peek_at(1).is_some_and(|b| b.is_ascii_digit())
        {
            return self.date_or_datetime(start, line, col);
        }
        if self.peek_at(0) == Some(b'.') && self.peek_at(1).is_some_and(|b| b.is_ascii_digit()) {
            self.bump();
            self.digits();
            self.no_trailing_letters(start, line, col)?;
            return Ok(Tok::Dec);
        }
        self.no_trailing_letters(start, line, col)?;
        Ok(Tok::Int)
    }

    /// `100abc` is neither a number nor an identifier.
    fn no_trailing_letters(
        &mut self,
        start: usize,
        line: usize,
        col: usize,
    ) -> Result<(), ParseError> {
        if matches!(self.peek(), Some(c) if is_ident_char(c)) {
            while matches!(self.peek(), Some(c) if is_ident_char(c)) {
                self.bump();
            }
            return Err(ParseError {
                line,
                column: col,
                message: format!("invalid number '{}'", &self.src[start..self.pos]),
            });
        }
        Ok(())
    }

    fn fixed_digits(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let c = self.peek()?;
            let d = c.to_digit(10)?;
            self.bump();
            v = v * 10 + d;
        }
        Some(v)
    }

    fn expect_byte(&mut self, b: u8) -> Option<()> {
        if self.peek_at(0) == Some(b) {
            self.bump();
            Some(())
        } else {
            None
        }
    }

    fn date_or_datetime(
        &mut self,
        start: usize,
        line: usize,
        column: usize,
    ) -> Result<Tok, ParseError> {
        let err = |lx: &mut Self, why: &str| {
            // Swallow the rest of the literal so the message shows all of it.
            while matches!(lx.peek(), Some(c) if is_ident_char(c) || matches!(c, '-' | ':' | '.' | '+'))
            {
                lx.bump();
            }
            ParseError {
                line,
                column,
                message: format!("invalid date/datetime '{}': {why}", &lx.src[start..lx.pos]),
            }
        };
        let year = self.src[start..self.pos].parse::<u16>().unwrap_or(0);
        let shape = "expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm)";
        let Some(month) = self.expect_byte(b'-').and_then(|_| self.fixed_digits(2)) else {
            return Err(err(self, shape));
        };
        let Some(day) = self.expect_byte(b'-').and_then(|_| self.fixed_digits(2)) else {
            return Err(err(self, shape));
        };
        if !(1..=12).contains(&month) {
            return Err(err(self, &format!("month {month} does not exist")));
        }
        let Some(date) = Date::new(year, month as u8, day as u8) else {
            return Err(err(
                self,
                &format!("day {day} does not exist in that month"),
            ));
        };
        if self.peek_at(0) != Some(b'T') && self.peek_at(0) != Some(b't') {
            if matches!(self.peek(), Some(c) if is_ident_char(c)) {
                return Err(err(self, shape));
            }
            return Ok(Tok::Date(date));
        }
        self.bump();
        let time = (|| {
            let h = self.fixed_digits(2)?;
            self.expect_byte(b':')?;
            let m = self.fixed_digits(2)?;
            self.expect_byte(b':')?;
            let s = self.fixed_digits(2)?;
            Some((h, m, s))
        })();
        let Some((hour, minute, second)) = time else {
            return Err(err(self, shape));
        };
        if hour > 23 || minute > 59 || second > 59 {
            return Err(err(self, "time out of range"));
        }
        let mut nanos = 0u32;
        if self.peek_at(0) == Some(b'.') {
            self.bump();
            let mut count = 0;
            while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
                self.bump();
                if count < 9 {
                    nanos = nanos * 10 + d;
                }
                count += 1;
            }
            if count == 0 {
                return Err(err(self, shape));
            }
            for _ in count..9 {
                nanos *= 10;
            }
        }
        let offset_minutes: i16 = match self.peek() {
            Some('Z') | Some('z') => {
                self.bump();
                0
            }
            Some(sign @ ('+' | '-')) => {
                self.bump();
                let Some(oh) = self.fixed_digits(2) else {
                    return Err(err(self, shape));
                };
                // Both `+01:00` and `+0100` occur in the wild.
                if self.peek_at(0) == Some(b':') {
                    self.bump();
                }
                let Some(om) = self.fixed_digits(2) else {
                    return Err(err(self, shape));
                };
                if oh > 14 || om > 59 {
                    return Err(err(self, "time zone offset out of range"));
                }
                let v = (oh * 60 + om) as i16;
                if sign == '-' {
                    -v
                } else {
                    v
                }
            }
            _ => {
                return Err(err(
                    self,
                    "a datetime needs a time zone (Z, +hh:mm or -hh:mm)",
                ))
            }
        };
        if matches!(self.peek(), Some(c) if is_ident_char(c)) {
            return Err(err(self, shape));
        }
        Ok(Tok::DateTime(DateTime {
            date,
            hour: hour as u8,
            minute: minute as u8,
            second: second as u8,
            nanos,
            offset_minutes,
        }))
    }

    fn string(&mut self) -> Result<Tok, ParseError> {
        let (line, column) = (self.line, self.col);
        self.bump(); // opening quote
        let mut out = String::new();
        loop {
            let (eline, ecol) = (self.line, self.col);
            let Some(c) = self.bump() else {
                return Err(ParseError {
                    line,
                    column,
                    message: "unterminated string literal".into(),
                });
            };
            match c {
                '\'' => {
                    self.strings.push(out);
                    return Ok(Tok::Str(self.strings.len() - 1));
                }
                '\\' => {
                    let Some(e) = self.bump() else {
                        return Err(ParseError {
                            line,
                            column,
                            message: "unterminated string literal".into(),
                        });
                    };
                    match e {
                        'n' | 'N' => out.push('\n'),
                        'r' | 'R' => out.push('\r'),
                        't' | 'T' => out.push('\t'),
                        'b' | 'B' => out.push('\u{8}'),
                        'f' | 'F' => out.push('\u{c}'),
                        '"' => out.push('"'),
                        '\'' => out.push('\''),
                        '\\' => out.push('\\'),
                        // Only LIKE gives these meaning; keep them escaped.
                        '%' | '_' => {
                            out.push('\\');
                            out.push(e);
                        }
                        'u' | 'U' => {
                            let ch = self.unicode_escape(eline, ecol)?;
                            out.push(ch);
                        }
                        other => {
                            return Err(ParseError {
                                line: eline,
                                column: ecol,
                                message: format!(
                                    "invalid escape sequence '\\{}' in string",
                                    other.escape_debug()
                                ),
                            })
                        }
                    }
                }
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut v = 0;
        for _ in 0..4 {
            let d = self.peek()?.to_digit(16)?;
            self.bump();
            v = v * 16 + d;
        }
        Some(v)
    }

    fn unicode_escape(&mut self, line: usize, column: usize) -> Result<char, ParseError> {
        let bad = |what: &str| ParseError {
            line,
            column,
            message: format!("invalid unicode escape in string: {what}"),
        };
        let Some(hi) = self.hex4() else {
            return Err(bad("expected four hex digits after \\u"));
        };
        if (0xD800..0xDC00).contains(&hi) {
            // A surrogate pair written as two escapes.
            if self.peek_at(0) == Some(b'\\') && matches!(self.peek_at(1), Some(b'u' | b'U')) {
                self.bump();
                self.bump();
                if let Some(lo) = self.hex4() {
                    if (0xDC00..0xE000).contains(&lo) {
                        let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        return char::from_u32(cp).ok_or_else(|| bad("not a character"));
                    }
                }
            }
            return Err(bad("unpaired surrogate"));
        }
        char::from_u32(hi).ok_or_else(|| bad("unpaired surrogate"))
    }
}

/// Reads text that must be exactly one date or datetime literal (used for window bounds).
pub(crate) fn single_temporal(s: &str) -> Option<crate::ast::Value> {
    let toks = tokenize(s).ok()?.tokens;
    match toks.as_slice() {
        [t, eof] if eof.kind == Tok::Eof => match t.kind {
            Tok::Date(d) => Some(crate::ast::Value::Date(d)),
            Tok::DateTime(d) => Some(crate::ast::Value::DateTime(d)),
            _ => None,
        },
        _ => None,
    }
}
