"""The canonical store: schema, migrations, identity and the engines that hold the data."""
