"""Every kind of dashboard entry as one validated type, for storage and for reading back."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, TypeAdapter

from issuebridge.boards import IssuesBoard
from issuebridge.curated import CommitsBoard, Panel, PullsBoard

AnyEntry = Annotated[IssuesBoard | PullsBoard | CommitsBoard | Panel, Field(discriminator="kind")]
entry_adapter: TypeAdapter[AnyEntry] = TypeAdapter(AnyEntry)
