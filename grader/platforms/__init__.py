"""Grading inside the platforms courses already use: a Gradescope autograder, a PrairieLearn
external grader.

Each platform starts one container per submission and runs this package's entry point in it as
root: `python -m grader.platforms.gradescope` (/autograder) or `python -m
grader.platforms.prairielearn` (/grade).  `grade_one` grades the one notebook with the same
engine as `grader grade` (the judge a separate process, the student under the `platform` choice of
sandbox: bubblewrap where it starts with its cgroups, else the `drop` backend); `export` builds
the bundles.
"""
