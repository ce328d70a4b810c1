"""(being built: see the issue)"""

from fastapi import APIRouter, FastAPI

router = APIRouter()


def install(app: FastAPI) -> None:
    """Mount static files and error pages."""
