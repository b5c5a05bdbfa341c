"""The training queue on RQ and Redis (``jobs``), what a worker runs (``work``) and the
class's rules, names and teacher (``classroom``)."""
