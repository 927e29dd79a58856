"""Training profiles of the deep detectors: named sets of defaults for the training schedule.

- ``default``: the short schedules that fit one seed of every detector into about a minute on
  one CPU core;
- ``reference``: the schedules of each detector's reference code, every number cited in the
  detector's module docstring.

A deep detector takes a ``profile`` parameter and leaves its schedule parameters (epochs,
learning rate, batch size, ...) at ``None``; at fit time ``resolve`` fills every ``None`` from
the detector's table for that profile, so a value given explicitly always wins. ``advbench run
--profile`` passes the profile to every detector that has the parameter, and the profile is
part of each result line and of the run folder's guard.
"""

from __future__ import annotations

from advbench.detectors.checks import check_choice, check_int, check_milestones, check_number

PROFILES = ("default", "reference")


def resolve(detector, table: dict[str, dict]) -> dict:
    """The checked schedule of ``detector``: each parameter of ``table[profile]``, or its explicit value.

    Values are checked by name and type: ``*lr`` a positive number, ``*milestones`` lists of
    epochs, ``*batch_size`` a positive integer, other integers (epochs, rounds) integers >= 0,
    other numbers >= 0. Raises ValueError naming the parameter.
    """
    check_choice("profile", detector.profile, PROFILES)
    schedule = {}
    for name, default in table[detector.profile].items():
        value = default if getattr(detector, name) is None else getattr(detector, name)
        if name.endswith("milestones"):
            check_milestones(name, value)
            value = tuple(value)
        elif name.endswith("lr"):
            check_number(name, value, low_open=True)
        elif name.endswith("batch_size"):
            check_int(name, value)
        elif isinstance(default, int):
            check_int(name, value, low=0)
        else:
            check_number(name, value)
        schedule[name] = value
    return schedule
