"""The networks: the named models and your own layer lists built in Keras (``models``), the
layer list's checks, shapes, parameters and multiply-adds without TensorFlow
(``layers``), and model summaries (``summary``)."""
