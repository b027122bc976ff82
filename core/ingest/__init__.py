"""From an uploaded file to a validation report with typed valid rows; pure, no stores, no bus.

    reader     inspect_file / read_sheet: format sniffing (sniff), safety checks (guard),
               workbook outline (outline), then parsing in a child process with memory and
               time limits (sandbox -> extract, csvtext, header); a large sheet is cut
               into slices of rows (split) that two processes read side by side, and
               columns travel back in compact forms (columns)
    mapping    source headers -> dataset fields, layout signatures, saved mappings
    coerce     raw cell values -> typed values per field kind, with a reason per bad cell
               (dates for the ways dates and times are written)
    validate   the validation report, the typed valid rows and the report as CSV

Anything that cannot be read at all raises `core.errors.FileRejected` with one human line.
"""
