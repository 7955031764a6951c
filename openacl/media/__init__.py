"""The core of ``acl.media``: DVPP pictures, JPEG/PNG codecs, VPC, channels and their tasks."""
