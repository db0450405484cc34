"""A pytest plugin that stands for a machine whose users' home directories hold conda's files.

tests/test_hermetic.py loads it (``-p tests.support.machine_users``) in a pytest run of its own:
the machine's user database then lists the homes named in ``PIPGUARD_TEST_MACHINE_HOMES``, as
``/etc/passwd`` lists ``/root`` and ``/home/*``; conda run as root reads the
``.conda/environments.txt`` of each. The suite's session fixture must hide them.
"""

from __future__ import annotations

import os

HOMES_VAR = "PIPGUARD_TEST_MACHINE_HOMES"

if os.name == "posix" and os.environ.get(HOMES_VAR):
    import pwd

    _me = pwd.getpwuid(os.getuid())
    _users = [
        pwd.struct_passwd((f"user{number}", *_me[1:5], home, _me.pw_shell))
        for number, home in enumerate(os.environ[HOMES_VAR].split(os.pathsep))
    ]
    pwd.getpwall = lambda: list(_users)
