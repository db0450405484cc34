"""A pip install checked against conda's packages before pip writes anything.

``arguments`` sorts pip's arguments by the step that needs them; ``pipenv`` finds the pip to run
and its environment; ``child`` runs it within a time bound; ``resolution`` reads pip's dry run;
``fetch`` turns every resolved file into a wheel at hand; ``wheelfile`` reads a wheel without
extracting it; ``planned`` is the env as it would be after the install; ``impact`` compares the
two analyses; ``check`` runs it all; ``render`` shows it; ``install`` installs exactly what was
checked.
"""
