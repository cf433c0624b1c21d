"""The network: the U-Net (``model``), its training from patches (``train``, ``sampler``,
``losses``, ``prior``), checkpoints, and running it on frames (``infer``, ``runtime``, ``device``)."""
