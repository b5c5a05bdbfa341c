"""How results are shown to people: figures (``figures``), the Draw page's answer block
(``answers``), the lab's words (``glossary``), a run's name in words (``runs``), and what
the pages' own components receive (``payloads``, with their frames as ``sprites``)."""
