"""Read side for the screens: filters, pages, pick lists and dashboard aggregations.

    columns     what each dataset shows and how its columns filter (by kind)
    filters     Contains / OneOf / Between, compiled to SQLAlchemy
    periods     Period, the inclusive date range used everywhere
    tables      pages, counts, pick lists and chunked reads of the relational tables
    customers   the keys of the customers' JSON attributes
    deliveries  pages of delivery notes with their lines, chunked line exports
                (the relational projection of the delivery documents)
    dashboards  GROUP BY aggregations for the charts

Everything runs in the stores; nothing loads a whole table.
"""
