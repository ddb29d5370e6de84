"""Reports to take away: any dashboard view as CSV or XLSX, and the quarterly PDF report a unit
sends up to the district's Home Affairs office (Phòng Nội vụ) and the province.

:mod:`hub.exports.tables` builds the tables (pure), :mod:`hub.exports.gather` reads them from the
rollups through :func:`hub.report.summary`, :mod:`hub.exports.csv_xlsx` and :mod:`hub.exports.pdf`
write the files, :mod:`hub.exports.jobs` runs long ones off the request thread.
"""
