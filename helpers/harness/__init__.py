"""The notebook harness: tools for the repository, not for a lab. No notebook imports them.

- ``runner``: execute notebooks headlessly with papermill and write the report (``make run``); ``kernels``:
  its process bookkeeping (kernels over IPC, orphans adopted, the offline guard for each run).
- ``anatomy``: the shape every notebook shares (title, badge row, ``## Setup``) and ``--fix`` for it.
- ``assignments``: the assignments' learner copies, made from their solutions (``make learner-copies``).
- ``grader``: grade a learner's copy, a score per exercise (``make grade``).
- ``site``: the labs as a static website (``make site``).
"""
