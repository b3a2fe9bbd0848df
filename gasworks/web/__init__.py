"""The shared web shell below the domain apps: layout, navigation registry, login landing, the
customer pages and the portal home. Domain apps plug their menu entries and customer-page panels
into it; it imports none of the apps that move gas or money."""
