"""A digit drawn or uploaded, made into the 28x28 input the models read: the pad's strokes
(``strokes``), MNIST-style centring (``preprocess``) and uploaded pictures (``upload``)."""
