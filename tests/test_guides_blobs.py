"""Blob guide: Poisson seeds, the rendered field, and seeds carried along true motion."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from livestyle.capture.synthclip import Clip, homography_clip, load_photo, map_points
from livestyle.guides import BlobGuide, Guide, GuideTracker, poisson_disk, render_blobs
from livestyle.guides.tracker import seed_reliability, smooth_residuals


@pytest.fixture(scope="module")
def clip() -> Clip:
    return homography_clip(load_photo(), 90, size=(320, 240), seed=4, motion="mixed")


def test_poisson_disk_respects_spacing_and_mask() -> None:
    mask = np.zeros((240, 320), np.uint8)
    cv2.circle(mask, (160, 120), 90, 255, -1)
    pts = poisson_disk(mask, spacing=10.0, rng=np.random.default_rng(0))
    assert pts.dtype == np.float32 and pts.shape[1] == 2
    assert (mask[pts[:, 1].round().astype(int), pts[:, 0].round().astype(int)] > 0).all()
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1) + np.eye(len(pts)) * 1e9
    assert d.min() >= 10.0
    area = np.count_nonzero(mask)
    assert area / 200 < len(pts) < area / 70  # near-maximal packing, not a sparse scatter


def test_render_blobs_matches_brute_force_gaussian_mixture() -> None:
    rng = np.random.default_rng(1)
    pts = poisson_disk(None, spacing=10.0, rng=rng, shape=(60, 80))
    cols = rng.integers(0, 256, (len(pts), 3), dtype=np.uint8)
    fast = render_blobs(pts, cols, (60, 80), sigma=12.0).astype(np.float64)
    ys, xs = np.mgrid[0:60, 0:80]
    d2 = (xs[..., None] - pts[:, 0]) ** 2 + (ys[..., None] - pts[:, 1]) ** 2
    g = np.exp(-d2 / 12.0**2)
    ref = (g @ cols.astype(np.float64)) / (g.sum(-1, keepdims=True) + 0.1)  # ε = a tenth of one blob's peak
    assert np.abs(fast - ref).mean() < 2.5
    assert render_blobs(pts, cols, (60, 80), valid=np.zeros(len(pts), bool)).max() == 0


def test_key_guide_is_deterministic_per_key(clip: Clip) -> None:
    guide = BlobGuide(seed=7)
    assert isinstance(guide, Guide)
    a = guide.key(clip.frames[0])
    assert a.shape == (240, 320, 3) and a.dtype == np.uint8
    assert np.array_equal(a, BlobGuide(seed=7).key(clip.frames[0]))
    assert not np.array_equal(a, guide.key(clip.frames[30]))
    mask = np.zeros((240, 320), np.uint8)
    mask[60:180, 100:220] = 255
    masked = guide.key(clip.frames[0], mask)
    assert masked[:20, :20].max() == 0 and masked[120, 160].max() > 0


def test_tracker_follows_true_motion(clip: Clip) -> None:
    guide = BlobGuide()
    key_pts, _ = guide.key_points(clip.frames[0])
    tracker = guide.tracker(clip.frames[0])
    assert isinstance(tracker, GuideTracker)
    for t in range(1, 60):
        tracker.update(clip.frames[t])
    truth = map_points(clip.homographies[59], key_pts)
    ok = tracker.visible & clip.valid(59, 59)[truth[:, 1].clip(0, 239).astype(int), truth[:, 0].clip(0, 319).astype(int)]
    err = np.linalg.norm(tracker.points[ok] - truth[ok], axis=1)
    assert ok.mean() > 0.5
    assert np.median(err) < 1.0 and np.percentile(err, 90) < 2.0


def test_key_without_mask_and_masked_frames_anchor_on_schedule(clip: Clip) -> None:
    """Live masked mode with a keyframe saved unmasked: only the seeds inside the mask show, which
    is not 'lost' tracking; re-anchoring must stay on its schedule (it costs ~10 ms each)."""
    guide = BlobGuide()
    tracker = guide.tracker(clip.frames[0])  # no key mask: seeds over the whole frame
    mask = np.zeros(clip.frames[0].shape[:2], np.uint8)
    mask[40:200, 100:220] = 255  # a "person" covering a quarter of the frame
    anchors = 0
    for t in range(1, 41):
        tracker.update(clip.frames[t], mask)
        anchors += tracker.anchored
    assert anchors <= 6  # every 8 frames: 5 in 40 frames (not every 3rd frame)
    assert tracker.visible.sum() > 0


def test_a_busy_frame_defers_the_scheduled_re_anchoring_by_a_frame_or_two(clip: Clip) -> None:
    tracker = BlobGuide().tracker(clip.frames[0], anchor_every=4)
    tracker.update(clip.frames[0])  # first frame: anchors at once, busy or not
    assert tracker.anchored
    for t in range(1, 4):
        tracker.update(clip.frames[t])
        assert not tracker.anchored
    tracker.update(clip.frames[4], busy=True)  # due now, but this frame is heavy
    assert not tracker.anchored
    tracker.update(clip.frames[5], busy=False)
    assert tracker.anchored
    for t in range(6, 11):  # due at frame 9; frames 9 and 10 are busy: deferred
        tracker.update(clip.frames[t], busy=True)
        assert not tracker.anchored
    tracker.update(clip.frames[11], busy=True)  # two frames late: anchors even on a busy frame
    assert tracker.anchored


def test_sequence_guides_follow_true_motion(clip: Clip) -> None:
    guide = BlobGuide()
    frames = clip.frames[:25]
    out = guide.sequence(frames, {12: None})
    assert len(out) == 25 and np.array_equal(out[12], guide.key(frames[12]))
    pts, cols = guide.key_points(frames[12])
    for t in (0, 24):
        truth = map_points(clip.homography(12, t), pts)
        ideal = render_blobs(truth, cols, (240, 320), guide.sigma).astype(np.float32)
        inner = (slice(40, -40), slice(40, -40))
        assert np.abs(out[t][inner] - ideal[inner]).mean() < 6.0


def test_sequence_blends_two_keys(clip: Clip) -> None:
    guide = BlobGuide()
    frames = clip.frames[:11]
    out = guide.sequence(frames, {0: None, 10: None}, blend=True)
    assert np.array_equal(out[0], guide.key(frames[0])) and np.array_equal(out[10], guide.key(frames[10]))
    nearest = guide.sequence(frames, {0: None, 10: None})
    assert not np.array_equal(out[5], nearest[5])


def test_tracker_survives_subject_leaving_and_returning(clip: Clip) -> None:
    guide = BlobGuide()
    h, w = 240, 320
    full = np.full((h, w), 255, np.uint8)
    empty = np.zeros((h, w), np.uint8)
    other = homography_clip(load_photo("astronaut")[::-1].copy(), 1, size=(w, h), seed=9).frames[0]
    key_pts, _ = guide.key_points(clip.frames[0], full)
    tracker = guide.tracker(clip.frames[0], full)
    for t in range(1, 30):
        tracker.update(clip.frames[t], full)
    for _ in range(30):  # the subject is gone: something else is in view, mask empty
        g = tracker.update(other, empty)
        assert tracker.visible.sum() == 0 and g.max() == 0
    for t in range(60, 75):  # back, having moved meanwhile
        tracker.update(clip.frames[t], full)
    truth = map_points(clip.homographies[74], key_pts)
    inside = clip.valid(74, 74)[truth[:, 1].clip(0, h - 1).astype(int), truth[:, 0].clip(0, w - 1).astype(int)]
    inside &= (truth[:, 0] >= 0) & (truth[:, 0] <= w - 1) & (truth[:, 1] >= 0) & (truth[:, 1] <= h - 1)
    ok = tracker.visible & inside
    assert ok.sum() > 0.5 * inside.sum()
    assert np.median(np.linalg.norm(tracker.points[ok] - truth[ok], axis=1)) < 1.5


def test_tracker_with_two_keys_follows_the_similar_one(clip: Clip) -> None:
    guide = BlobGuide()
    chelsea_like = np.ascontiguousarray(clip.frames[0][::-1, ::-1])
    tracker = guide.tracker([(chelsea_like, None), (clip.frames[0], None)])
    for t in range(1, 12):
        tracker.update(clip.frames[t])
    assert tracker.active == 1


def test_seed_reliability_is_low_on_flat_colour_and_high_on_texture(clip: Clip) -> None:
    gray = cv2.cvtColor(clip.frames[0], cv2.COLOR_BGR2GRAY)
    gray[:, :100] = 90  # a flat band
    pts = np.array([[50, 120], [20, 20], [200, 120], [250, 60]], np.float32)
    rel = seed_reliability(gray, pts)
    assert rel.shape == (4,) and rel.dtype == np.float32
    assert rel[:2].max() < 0.05
    noise = np.random.default_rng(0).integers(0, 256, (240, 320), dtype=np.uint8)
    assert seed_reliability(noise, pts).min() > 0.9
    assert seed_reliability(gray, np.zeros((0, 2), np.float32)).shape == (0,)


def test_smooth_residuals_take_the_reliable_neighbours_value() -> None:
    pts = poisson_disk(None, spacing=10.0, rng=np.random.default_rng(2), shape=(120, 160))
    left = pts[:, 0] < 80
    vals = np.where(left[:, None], [3.0, -2.0], [50.0, 50.0]).astype(np.float32)  # right half: junk
    wts = left.astype(np.float32)  # ... with no weight
    out = smooth_residuals(pts, vals, wts, (120, 160), sigma=20.0)
    assert out.shape == (len(pts), 2)
    assert np.abs(out[left & (pts[:, 0] < 60)] / [3.0, -2.0] - 1).max() < 0.15  # inside: ~the value (ε shrinks it a little)
    far = pts[:, 0] > 140  # 3 sigma from any reliable seed: shrinks towards 0, never takes the junk
    assert np.abs(out[far]).max() < 2.0


def test_seeds_on_flat_regions_follow_their_neighbours(clip: Clip) -> None:
    flat = (cv2.pyrMeanShiftFiltering(load_photo(), 21, 40) // 64 * 64 + 32).astype(np.uint8)
    fclip = homography_clip(flat, 60, size=(320, 240), seed=4, motion="mixed")
    guide = BlobGuide()
    key_pts, _ = guide.key_points(fclip.frames[0])
    truth = map_points(fclip.homographies[59], key_pts)
    errs = []
    for regularize in (False, True):
        tracker = guide.tracker(fclip.frames[0], regularize=regularize)
        for t in range(1, 60):
            tracker.update(fclip.frames[t])
        ok = tracker.visible & (truth[:, 0] >= 0) & (truth[:, 0] < 320) & (truth[:, 1] >= 0) & (truth[:, 1] < 240)
        errs.append(np.linalg.norm(tracker.points[ok] - truth[ok], axis=1))
    plain, reg = errs
    assert np.percentile(reg, 95) < 0.8 * np.percentile(plain, 95)
    assert np.median(reg) <= np.median(plain) + 0.05
