"""The data sets by name (``registry``: loader, image shape, class names, presence) and
what is done to their images: MNIST (``mnist``), Fashion-MNIST (``fashion``), CIFAR-10
(``cifar``), salt-and-pepper noise (``noise``) and the training distortions
(``augment``)."""
