"""Temporal filters: what happens to a frame because of the frames before it.

All three run along dense optical flow (``flow.py``: DIS presets as data, warps,
forward-backward consistency):

* ``CausalDenoiser`` / ``denoise_sequence`` (``denoise.py``): the frame filter run
  before the guides and the network (the keyframe is trained filtered the same way);
  ``OutputStabilizer`` is its counterpart on the network's output.
* ``KeyCarry`` (``carry.py``): blends the painted keyframe, carried by flow, into
  the network's output where the frame shows what the keyframe showed.
"""

from __future__ import annotations

from livestyle.temporal.carry import (
    CARRY,
    CARRY_EVERY_LIVE,
    CARRY_FLOW,
    CARRY_FLOW_LIVE,
    CARRY_LIVE,
    CarryKey,
    KeyCarry,
    carry_every_live,
    nearest_keys,
)
from livestyle.temporal.denoise import (
    STEADY,
    STEADY_FLOW,
    STEADY_FLOW_RENDER,
    STEADY_LIVE,
    CausalDenoiser,
    OutputStabilizer,
    denoise_sequence,
)
from livestyle.temporal.flow import (
    FlowEstimator,
    forward_backward_consistency,
    points_consistent,
    sample_at,
    warp,
)

__all__ = [
    "CARRY", "CARRY_EVERY_LIVE", "CARRY_FLOW", "CARRY_FLOW_LIVE", "CARRY_LIVE", "STEADY",
    "STEADY_FLOW", "STEADY_LIVE", "STEADY_FLOW_RENDER", "CarryKey", "CausalDenoiser", "FlowEstimator",
    "KeyCarry", "OutputStabilizer", "carry_every_live", "denoise_sequence", "forward_backward_consistency",
    "nearest_keys", "points_consistent", "sample_at", "warp",
]
