"""The data sets by name (``registry``: loader, image shape, class names, presence), what
each of them is (``images``: an ``ImageSet`` with its provenance and the one split rule),
their loaders (``mnist``, ``fashion``, ``cifar``) and what is done to their images:
salt-and-pepper noise (``noise``) and the training distortions (``augment``)."""
