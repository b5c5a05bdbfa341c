"""How results are shown to people: figures (``figures``), the Draw page's answer block
(``answers``), the lab's words (``glossary``), a run's name in words (``runs``), a run as
one standalone Keras script (``keras_code``), what
the pages' own components receive (``payloads``, with their frames as ``sprites``), and the
links that reopen a page's view (``links``)."""
