"""Files on disk: images and video in and out, written so that nothing the user had is lost
(temporary name, then rename; outputs never inside inputs)."""
