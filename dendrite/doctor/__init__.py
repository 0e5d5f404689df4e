"""The training doctor: "why is my network not training?" answered on your own model.

``examine(model, data)`` runs the classic checks as short experiments on a copy of
your model and data; ``watch(model, optimizer)`` looks over your own training
loop; both return a :class:`Report` of :class:`Finding` objects, most likely
root cause first. ``docs/doctor.md`` lists every probe, its measure and threshold.
"""

from dendrite.doctor.examiner import examine
from dendrite.doctor.gallery import GalleryRow, format_gallery, gallery
from dendrite.doctor.nan_origin import check_optimizer_step, trace_nan
from dendrite.doctor.report import ROOT_CAUSE_ORDER, Finding, Report
from dendrite.doctor.watch import Watch, watch

__all__ = ["Finding", "Report", "ROOT_CAUSE_ORDER", "examine", "gallery", "format_gallery", "GalleryRow",
           "trace_nan", "check_optimizer_step", "watch", "Watch"]
