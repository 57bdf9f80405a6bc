"""Activepieces pieces as apps: installed from the npm registry, described once into a
manifest stored like an imported app's, run by a Node bridge (``bridge.js``)."""
