"""The day board and the fragment it refreshes."""

from django.urls import path

from . import board

urlpatterns = [
    path("board/", board.board, name="board"),
    path("board/partial/", board.board_partial, name="board-partial"),
]
