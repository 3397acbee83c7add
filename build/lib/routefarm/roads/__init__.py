"""Road travel times from OpenStreetMap: graph, contraction hierarchy, snapping, an
OSRM-compatible server (``routefarm roads serve``) and the client that workers use.

Modules: ``osm`` reads ways (pyosmium), ``profiles`` decides access and speeds,
``graph`` builds a profile's graph, ``ch`` contracts it, ``table`` answers many-to-many
tables, ``route`` finds leg paths, ``snap`` snaps coordinates, ``engine`` ties them for
one profile, ``store`` builds and caches engines, ``server`` serves them over HTTP,
``client`` asks any OSRM-compatible server (standard library only). ``generate`` writes
a synthetic city for benchmarks. Nothing here runs at import.
"""
