"""Reports to take away: any dashboard view as CSV or XLSX, and the quarterly PDF report a unit
sends up to the district's Home Affairs office (Phòng Nội vụ) and the province.

:mod:`hub.exports.tables` builds the tables (pure), :mod:`hub.exports.gather` reads them from the
rollups through :func:`hub.report.summary`, :mod:`hub.exports.csv_xlsx` and :mod:`hub.exports.pdf`
write the files, :mod:`hub.exports.jobs` runs long ones off the request thread.

The quarterly and yearly report sent upward (official layout, unit or province):
:mod:`hub.exports.official` builds its tables (pure), :mod:`hub.exports.official_gather` reads
its figures (:class:`~hub.exports.official_gather.ReportDesk`), :mod:`hub.exports.official_pdf`
and :func:`hub.exports.csv_xlsx.official_xlsx` write it.
"""
