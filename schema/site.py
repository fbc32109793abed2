"""Site-wide settings: name, tagline and the "stay connected" links."""

from __future__ import annotations

import strawberry


@strawberry.type(description="A link to the site's account on a social network.")
class SocialLink:
    network: str = strawberry.field(description="Network name, lower case: x, facebook, instagram, youtube, rss...")
    url: str = strawberry.field(description="Address of the account.")


@strawberry.type(description="Site settings shown in the site chrome.")
class Site:
    name: str = strawberry.field(description="The site's name.")
    tagline: str = strawberry.field(description="The site's tagline; may be empty.")

    @strawberry.field(description="Social accounts for the \"stay connected\" block, in display order.")
    def social_links(self) -> list[SocialLink]:
        return [SocialLink(network=link["network"], url=link["url"]) for link in self.social_links]
