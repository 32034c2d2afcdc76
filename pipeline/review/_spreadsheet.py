"""CSV cells a spreadsheet cannot run: shared by the run's and a story's CSV exports."""


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets execute cells starting with these; quote them so a claim can't become a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
