"""Sync APIs that existing reader apps speak, each a router the web app includes:

    greader   the Google Reader API as FreshRSS and Miniflux serve it (/api/greader, /api/greader.php)
    fever     the Fever API (/fever/, /api/fever.php)

Each does its own protocol's authentication with ``newswire.accounts`` and reads and writes each
reader's state through the ``Store``; neither imports the other.
"""
