"""Sync between a person's devices through a folder they already sync or a WebDAV server (a built-in plugin).

Each device writes only files of its own into the sync location (immutable segments of changes, snapshots and
acknowledgements, each sealed: encrypted and authenticated, or at least checked by length and checksum); every
device merges the others' changes into its local ledger, field group by field group, last writer wins by
(hybrid logical clock, device). See the README's Sync section.
"""
