"""Pure catalog domain: levels, node state, the code scheme, frameworks and the tree."""
