"""The list of followed feeds: OPML in and out, and feed discovery from a site's page."""
