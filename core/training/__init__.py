"""Training: one run (``run``: data, model, ``fit`` once, evaluate), the experiments
(``experiments``: sweeps and the noise curve; ``sweeps``: their results), a run's time
estimated before it is queued (``timing``) and the shipped classifiers trained again and
timed (``speed``)."""
