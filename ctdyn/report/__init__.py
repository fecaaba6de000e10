r"""Reports of an analysis: terminal summary, JSON, Markdown folder and figures.

Every file is written atomically: JSON and PNG files through a temporary file
and ``os.replace``, the report folder through a temporary folder that is
renamed into place. An error never leaves a half-written output.
"""

from ._figures import energy_figure, log_distance_figure, save_png, trajectory_figure
from ._json import check_output_file, json_text, write_bytes_atomic, write_json, write_text_atomic
from ._markdown import REPORT_FILE, check_report_folder, report_markdown, write_report
from ._summary import format_certificate_table, format_summary

__all__ = [
    "format_summary",
    "format_certificate_table",
    "write_json",
    "json_text",
    "write_text_atomic",
    "write_bytes_atomic",
    "check_output_file",
    "write_report",
    "report_markdown",
    "check_report_folder",
    "REPORT_FILE",
    "trajectory_figure",
    "log_distance_figure",
    "energy_figure",
    "save_png",
]
