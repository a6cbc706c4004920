"""The day board and the fragment it refreshes."""

from django.urls import path

from . import board, board_actions, board_late

urlpatterns = [
    path("board/", board.board, name="board"),
    path("board/partial/", board.board_partial, name="board-partial"),
    path("board/tell-late/", board_late.board_tell_late_all, name="board-tell-late-all"),
    path("board/cases/<int:pk>/tell-late/", board_late.board_tell_late, name="board-tell-late"),
    path(
        "board/cases/<int:pk>/<slug:action>/", board_actions.board_action, name="board-action"
    ),
]
