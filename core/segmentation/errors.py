"""The one error the segmentation engine raises on purpose."""

from __future__ import annotations

from core.errors import PipeworksError


class SegmentationError(PipeworksError, ValueError):
    """The input cannot be segmented as asked; the message is one line for a business user.

    Raised for unknown columns, duplicate customer IDs, no usable feature left, too few
    customers for the chosen number of segments, unknown parameters, or a saved model that
    does not belong to the run it is loaded into.
    """
