"""The two locks against pip, one idea per module (nothing is imported here, so hooks stay cheap).

* :mod:`.results` -- what ``mark``/``unmark`` did (:class:`~.results.LockAction`), the lock state
  ``status`` reports (:class:`~.results.LockStatus`) and :class:`~.results.LockError`;
* :mod:`.marker` -- the hard lock, a PEP 668 ``EXTERNALLY-MANAGED`` file in the stdlib directory;
* :mod:`.soft` -- the soft lock: pins for pip (site ``pip.conf``) and uv (conda env vars),
  keeping every constraint already in force; :mod:`.softremove` lifts it, :mod:`.softfiles`
  says where its files are and recognises them, :mod:`.softstatus` compares it with what conda
  owns now and with what pip and uv would apply, :mod:`.softholds` says who it holds and when;
* :mod:`.pins` -- the constraints file;
* :mod:`.pipconfig` -- pip's configuration files and variables, merged as pip merges them;
* :mod:`.inifile` -- line-preserving edits of one ``pip.conf``;
* :mod:`.condavars` -- the env's ``conda env config vars`` in ``conda-meta/state``;
* :mod:`.writer` -- paths checked inside the prefix, atomic writes, a rolled-back multi-file
  change and the inter-process lock that every read-modify-write of the locks holds.
"""
