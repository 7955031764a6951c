"""openacl profiling: ``acl.prof``, the acl.json ``profiler`` section, the timeline."""
