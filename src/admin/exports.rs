//! The inventory's exports for operators: CSV (what scripts and every spreadsheet read) and
//! .xlsx (what Excel opens with every serial as text). Both read their rows from the
//! database one chunk at a time, so memory holds one chunk however large the fleet: a CSV
//! is streamed to the client as it is read, an .xlsx is built in a temp file (the format is
//! a zip that needs every row before it can be written) and then streamed from there.
//!
//! Everything in a cell may come from a device (a User-Agent, a serial, an address a proxy
//! passed on) and is never echoed raw into a spreadsheet: in CSV a text that a spreadsheet
//! would run as a formula gets a leading `'`; in .xlsx every text is a string cell, which
//! Excel never runs.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{Read, Seek};

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use bytes::Bytes;

use crate::admin::admin_error::AdminError;
use crate::app_state::AppState;

/// One cell of an export.
pub enum Cell {
    /// Text, maybe from a device.
    Text(String),
    /// One or more serials separated by spaces: text that looks like a number, and must
    /// stay text (16 digits with leading zeros; a spreadsheet would keep 15 digits of a
    /// number and drop the zeros).
    Serials(String),
    /// A number (a build date, a version: yyyymmdd).
    Number(u32),
    Empty,
}

/// What an export is: its file name (without extension), sheet name and column titles.
#[derive(Clone, Copy)]
pub struct Table {
    pub file: &'static str,
    pub sheet: &'static str,
    pub header: &'static [&'static str],
}

/// Where an export's rows come from: chunk after chunk, each read in one short query.
pub trait Rows: Send + 'static {
    /// The next chunk; `None` once every row was read. Blocking: runs off the async
    /// workers.
    fn next_chunk(&mut self, state: &AppState) -> Result<Option<Vec<Vec<Cell>>>, AdminError>;
}

/// The part of the rows an export was asked for (`offset`, `limit`): by default all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub offset: u64,
    pub limit: Option<u64>,
}

impl Window {
    /// Keeps the rows of `chunk` inside the window; `seen` counts the rows passed so far.
    fn apply(&self, chunk: Vec<Vec<Cell>>, seen: &mut u64) -> Vec<Vec<Cell>> {
        let mut kept = Vec::new();
        for row in chunk {
            let index = *seen;
            *seen += 1;
            if index >= self.offset && self.limit.is_none_or(|l| index - self.offset < l) {
                kept.push(row);
            }
        }
        kept
    }

    /// Whether every row of the window has been passed.
    fn is_past(&self, seen: u64) -> bool {
        self.limit
            .is_some_and(|l| seen >= self.offset.saturating_add(l))
    }
}

/// Rows and how far an export has read them.
struct Cursor<R> {
    rows: R,
    window: Window,
    seen: u64,
    done: bool,
}

impl<R: Rows> Cursor<R> {
    /// The next rows inside the window (an empty chunk only at the end).
    fn next(&mut self, state: &AppState) -> Result<Vec<Vec<Cell>>, AdminError> {
        while !self.done {
            if self.window.is_past(self.seen) {
                self.done = true;
                break;
            }
            match self.rows.next_chunk(state)? {
                None => self.done = true,
                Some(chunk) => {
                    let kept = self.window.apply(chunk, &mut self.seen);
                    if !kept.is_empty() {
                        return Ok(kept);
                    }
                }
            }
        }
        Ok(Vec::new())
    }
}

/// Answers with the rows as CSV, streamed: read one chunk, send it, read the next.
/// The first chunk is read before answering, so that a store that cannot be read is a
/// 503 with a reason rather than a cut download.
pub async fn csv(
    state: web::Data<AppState>,
    table: Table,
    rows: impl Rows,
    window: Window,
) -> Result<HttpResponse, AdminError> {
    let cursor = Cursor {
        rows,
        window,
        seen: 0,
        done: false,
    };
    let (cursor, first) = csv_chunk(state.clone(), cursor).await?;
    let mut head = String::from("\u{feff}");
    csv_line(
        &mut head,
        table.header.iter().map(|h| Cell::Text(h.to_string())),
    );
    head.push_str(&first);
    let body = futures_util::stream::try_unfold(
        (state, cursor, Some(head)),
        move |(state, cursor, pending)| async move {
            if let Some(text) = pending {
                return Ok(Some((Bytes::from(text), (state, cursor, None))));
            }
            if cursor.done {
                return Ok(None);
            }
            match csv_chunk(state.clone(), cursor).await {
                // An empty chunk would end a chunked body early: only the end is empty.
                Ok((_, text)) if text.is_empty() => Ok(None),
                Ok((cursor, text)) => Ok(Some((Bytes::from(text), (state, cursor, None)))),
                Err(e) => {
                    log::warn!("{}: the export stopped: {e}", table.file);
                    Err(std::io::Error::other(e.to_string()))
                }
            }
        },
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header(attachment(table.file, "csv"))
        .streaming(body))
}

/// The next chunk as CSV lines, read off the async workers.
async fn csv_chunk<R: Rows>(
    state: web::Data<AppState>,
    mut cursor: Cursor<R>,
) -> Result<(Cursor<R>, String), AdminError> {
    web::block(move || {
        let rows = cursor.next(&state)?;
        let mut text = String::new();
        for row in rows {
            csv_line(&mut text, row);
        }
        Ok((cursor, text))
    })
    .await
    .map_err(|e| AdminError::Internal(e.to_string()))?
}

fn attachment(file: &str, extension: &str) -> (header::HeaderName, String) {
    (
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{file}.{extension}\""),
    )
}

/// One CSV line for Excel with Russian settings: `;` between fields, CRLF at the end.
fn csv_line(out: &mut String, cells: impl IntoIterator<Item = Cell>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        match cell {
            Cell::Text(text) => out.push_str(&csv_text(&text)),
            Cell::Serials(serials) => out.push_str(&csv_serials(&serials)),
            Cell::Number(n) => {
                let _ = write!(out, "{n}");
            }
            Cell::Empty => {}
        }
    }
    out.push_str("\r\n");
}

/// Serials as text in CSV. CSV has no types: Excel and LibreOffice read
/// `0000000000012345` as the number 12345, and a 16-digit serial keeps 15 digits. A tab
/// before the digits (inside quotes, so that no reader takes it for a separator) makes
/// both open the cell as text with every digit, and every CSV reader still reads the
/// field, the serial after a tab that `trim` removes. The other usual forms fail one of
/// these: `="…"` is a formula (LibreOffice runs it only when formulas are evaluated, and
/// other readers see `="…"`), a leading `'` stays visible in both, a leading space is
/// trimmed and read as a number. For clean text cells there is the .xlsx export.
fn csv_serials(serials: &str) -> Cow<'_, str> {
    if serials.is_empty() {
        return Cow::Borrowed("");
    }
    if serials.bytes().all(|b| b.is_ascii_digit() || b == b' ') {
        Cow::Owned(format!("\"\t{serials}\""))
    } else {
        // Not what a device can send today (serials are stored as 16 digits): text.
        csv_text(serials)
    }
}

/// One text field: never something a spreadsheet runs, quoted when it holds `;`, `"`, a
/// tab or a line break.
fn csv_text(field: &str) -> Cow<'_, str> {
    let safe = if is_formula_like(field) {
        Cow::Owned(format!("'{field}"))
    } else {
        Cow::Borrowed(field)
    };
    if safe.contains([';', '"', '\n', '\r', '\t']) {
        let mut quoted = String::with_capacity(safe.len() + 2);
        let _ = write!(quoted, "\"{}\"", safe.replace('"', "\"\""));
        Cow::Owned(quoted)
    } else {
        safe
    }
}

/// Whether a spreadsheet could take `field` for a formula: it starts with `=`, `+`, `-`
/// or `@` (or their full-width forms, which some Excel versions accept), maybe after
/// white space or control characters that an import trims, or with a tab or carriage
/// return (OWASP's list for CSV injection).
fn is_formula_like(field: &str) -> bool {
    if field.starts_with(['\t', '\r']) {
        return true;
    }
    field
        .trim_start_matches(|c: char| c.is_whitespace() || c.is_control())
        .starts_with([
            '=', '+', '-', '@', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}',
        ])
}

/// Excel's last row (1,048,576 rows, counted from 0).
const XLSX_LAST_ROW: u32 = 1_048_575;
/// Excel's longest text in a cell.
const XLSX_MAX_TEXT: usize = 32_767;
/// At most this many .xlsx files are built at once (each is a few seconds of a core for a
/// large fleet); others wait their turn.
static XLSX_BUILDS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
/// A built .xlsx is sent in pieces of this size.
const SEND_PIECE: usize = 64 * 1024;

/// Answers with the rows as an .xlsx workbook: one sheet, a bold header row kept in view,
/// serials as text cells, numbers as numbers. Built row by row into a temp file
/// (rust_xlsxwriter's constant-memory mode), then sent from there.
pub async fn xlsx(
    state: web::Data<AppState>,
    table: Table,
    rows: impl Rows,
    window: Window,
) -> Result<HttpResponse, AdminError> {
    let _turn = XLSX_BUILDS
        .acquire()
        .await
        .map_err(|e| AdminError::Internal(e.to_string()))?;
    let cursor = Cursor {
        rows,
        window,
        seen: 0,
        done: false,
    };
    let (file, length) = web::block(move || build_xlsx(&state, table, cursor))
        .await
        .map_err(|e| AdminError::Internal(e.to_string()))??;
    let body = futures_util::stream::try_unfold(file, |mut file| async move {
        let (file, piece) = web::block(move || {
            let mut piece = vec![0; SEND_PIECE];
            let n = file.read(&mut piece)?;
            piece.truncate(n);
            Ok::<_, std::io::Error>((file, piece))
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok::<_, std::io::Error>((!piece.is_empty()).then(|| (Bytes::from(piece), file)))
    });
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ))
        .insert_header(attachment(table.file, "xlsx"))
        .no_chunking(length)
        .streaming(body))
}

/// Writes every row into a workbook, saves it to an anonymous temp file (gone when
/// closed); the file, rewound, and its length.
fn build_xlsx<R: Rows>(
    state: &AppState,
    table: Table,
    mut cursor: Cursor<R>,
) -> Result<(std::fs::File, u64), AdminError> {
    use rust_xlsxwriter::{Format, Workbook};
    let failed = |e: rust_xlsxwriter::XlsxError| AdminError::Internal(format!("xlsx: {e}"));
    let mut workbook = Workbook::new();
    let sheet = workbook
        .add_worksheet_with_constant_memory()
        .map_err(failed)?;
    sheet.set_name(table.sheet).map_err(failed)?;
    let bold = Format::new().set_bold();
    for (col, title) in (0u16..).zip(table.header) {
        sheet
            .set_column_width(col, if col == 0 { 18 } else { 20 })
            .map_err(failed)?;
        sheet
            .write_string_with_format(0, col, *title, &bold)
            .map_err(failed)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(failed)?;
    let mut row: u32 = 1;
    'chunks: loop {
        let chunk = cursor.next(state)?;
        if chunk.is_empty() {
            break;
        }
        for cells in chunk {
            if row == XLSX_LAST_ROW {
                // Excel opens no more rows than this: say so in the last one.
                sheet
                    .write_string(
                        row,
                        0,
                        "Excel holds no more rows: the CSV export has all of them",
                    )
                    .map_err(failed)?;
                row += 1;
                break 'chunks;
            }
            for (col, cell) in (0u16..).zip(cells) {
                match cell {
                    Cell::Text(text) | Cell::Serials(text) => {
                        sheet.write_string(row, col, clip(&text)).map_err(failed)?;
                    }
                    Cell::Number(n) => {
                        sheet.write_number(row, col, f64::from(n)).map_err(failed)?;
                    }
                    Cell::Empty => {}
                }
            }
            row += 1;
        }
    }
    let last_col = u16::try_from(table.header.len().saturating_sub(1)).unwrap_or(0);
    sheet.autofilter(0, 0, row - 1, last_col).map_err(failed)?;
    let mut file = tempfile::tempfile()
        .map_err(|e| AdminError::Internal(format!("cannot create a temp file: {e}")))?;
    workbook.save_to_writer(&mut file).map_err(failed)?;
    let length = file
        .stream_position()
        .and_then(|length| file.rewind().map(|()| length))
        .map_err(|e| AdminError::Internal(format!("cannot read the temp file back: {e}")))?;
    Ok((file, length))
}

/// At most the text Excel holds in one cell.
fn clip(text: &str) -> &str {
    if text.len() <= XLSX_MAX_TEXT {
        return text;
    }
    // Excel counts UTF-16 units; bytes are at least as many, so this is within bounds.
    let mut end = XLSX_MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(cells: Vec<Cell>) -> String {
        let mut out = String::new();
        csv_line(&mut out, cells);
        out
    }

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_text("10.0.0.1"), "10.0.0.1");
        assert_eq!(csv_text("a;b"), "\"a;b\"");
        assert_eq!(csv_text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_text("-1+1"), "'-1+1");
        assert_eq!(csv_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_text("+7 999"), "'+7 999");
        assert_eq!(csv_text("  =1+1"), "'  =1+1");
        assert_eq!(csv_text("\u{a0}=1+1"), "'\u{a0}=1+1");
        assert_eq!(csv_text("\u{ff1d}1+1"), "'\u{ff1d}1+1");
        assert_eq!(csv_text("\tx"), "\"'\tx\"");
        assert_eq!(csv_text("\r=1"), "\"'\r=1\"");
        assert_eq!(csv_text("JavaPOS 1.2 (a=b)"), "JavaPOS 1.2 (a=b)");
    }

    #[test]
    fn serials_are_text_for_spreadsheets_and_plain_for_scripts() {
        assert_eq!(csv_serials("0000000000012345"), "\"\t0000000000012345\"");
        assert_eq!(
            csv_serials("0000000000012345 1234567890123456"),
            "\"\t0000000000012345 1234567890123456\""
        );
        assert_eq!(csv_serials(""), "");
        assert_eq!(csv_serials("=1+1"), "'=1+1");
        assert_eq!(
            line(vec![
                Cell::Text("10.0.0.1".into()),
                Cell::Serials("0000000000012345".into()),
                Cell::Number(20180101),
                Cell::Empty,
            ]),
            "10.0.0.1;\"\t0000000000012345\";20180101;\r\n"
        );
    }

    #[test]
    fn a_window_keeps_offset_and_limit() {
        let rows = |n: usize| (0..n).map(|_| vec![Cell::Empty]).collect::<Vec<_>>();
        let window = Window {
            offset: 3,
            limit: Some(4),
        };
        let mut seen = 0;
        assert_eq!(window.apply(rows(2), &mut seen).len(), 0);
        assert!(!window.is_past(seen));
        assert_eq!(window.apply(rows(3), &mut seen).len(), 2);
        assert_eq!(window.apply(rows(5), &mut seen).len(), 2);
        assert!(window.is_past(seen));
        let all = Window {
            offset: 0,
            limit: None,
        };
        let mut seen = 0;
        assert_eq!(all.apply(rows(5), &mut seen).len(), 5);
        assert!(!all.is_past(u64::MAX));
    }

    #[test]
    fn long_text_is_clipped_at_a_character() {
        let text = "я".repeat(20_000);
        let clipped = clip(&text);
        assert!(clipped.len() <= XLSX_MAX_TEXT && clipped.chars().all(|c| c == 'я'));
        assert_eq!(clip("short"), "short");
    }
}
