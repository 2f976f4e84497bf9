"""Use cases by noun (catalogs, versions, drafts, review, merging, …): each mutation one function that
checks its actor, writes, audits and commits once; reads build what a page or an answer shows."""
