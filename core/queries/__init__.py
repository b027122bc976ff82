"""Read side for the screens: filters, pages, pick lists and dashboard aggregations.

    columns     what each dataset shows and how its columns filter (by kind)
    filters     Contains / OneOf / Between, compiled to SQLAlchemy or the document filter
    periods     Period, the inclusive date range used everywhere
    tables      pages, counts, pick lists and chunked reads of the relational tables
    customers   the keys of the customers' JSON attributes
    deliveries  pages of delivery documents with their lines, chunked line exports
    dashboards  GROUP BY and DocumentStore.group aggregations for the charts

Everything runs in the stores; nothing loads a whole table.
"""
