# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import ModelView
from trytond.model.descriptors import dualmethod
from trytond.pool import PoolMeta

from .sequence import numbering


class Move(metaclass=PoolMeta):
    __name__ = 'account.move'

    @dualmethod
    @ModelView.button
    def post(cls, moves):
        # Moves read from their lines (a statement's, an order's) share the
        # list of ids of the lines' read, one entry per line: every
        # attribute of a move not in its cache walks that list, tens of
        # thousands long.  Browsed again, the list holds each move once.
        # The post numbers are taken in bulk (sequence.py): each number
        # written emptied the caches before the next move.
        with numbering():
            super().post(cls.browse(moves))
