"""(being built: see the issue) """

from fastapi import APIRouter

router = APIRouter()
