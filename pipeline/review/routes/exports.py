"""The run's exports: one route per registered format, at the format's URL."""

from collections.abc import Callable

from fastapi import APIRouter, Request, Response

from pipeline.review.export import ExportFormat, ExportSource
from pipeline.review.routes.desk import DeskDep


def _serve(fmt: ExportFormat) -> Callable[[DeskDep, Request], Response]:
    headers = {"Content-Disposition": f'{fmt.disposition}; filename="{fmt.filename}"'} if fmt.disposition else None

    def export(desk: DeskDep, request: Request) -> Response:
        source = ExportSource(desk.run.out_dir, desk.name, str(request.base_url), served=True)
        return Response(fmt.render(source), media_type=fmt.media_type, headers=headers)

    return export


def exports_router(formats: list[ExportFormat]) -> APIRouter:
    router = APIRouter()
    for fmt in formats:
        router.add_api_route(fmt.url, _serve(fmt), methods=["GET"], name=f"export_{fmt.name}")
    return router
