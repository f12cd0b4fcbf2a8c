"""The catalogue desk's forms: a product with its clearance per market, and a variant with its
volume prices."""

from __future__ import annotations

from decimal import Decimal

from wtforms import (
    BooleanField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from shop.catalogue.editing import MARKETS, Clearance, ProductDetails
from shop.catalogue.models import Product, RegulatoryCategory, RegulatoryStatus, Variant
from shop.catalogue.stock import MAX_ADJUSTMENT, STAFF_MOVEMENTS, Adjustment, Movement
from shop.catalogue.variant_editing import VariantDetails
from shop.core.limits import MAX_LINE_QUANTITY, SKU_LENGTH
from shop.core.pricing import cents
from shop.forms import ShopForm, a_number, clean_text, money_checks

MAX_REORDER_LEVEL = 100_000
BREAK_ROWS = 4


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _text(label: str, max_length: int = 5000) -> TextAreaField:
    return TextAreaField(label, validators=[Optional(), Length(max=max_length)])


class ProductForm(ShopForm):
    name = StringField("Name", validators=[DataRequired("Enter the product's name."), Length(max=160)])
    brand_id = SelectField("Brand", coerce=int, validators=[InputRequired("Choose a brand.")])
    category_id = SelectField("Category", coerce=int, validators=[InputRequired("Choose a category.")])
    summary = StringField("Summary (one line on the catalogue card)", validators=[Optional(), Length(max=300)])
    description = _text("Description")
    composition = _text("Composition")
    ingredient_ids = CheckboxList("Ingredients", coerce=int, validate_choice=True)
    area_ids = CheckboxList("Treatment areas", coerce=int, validate_choice=True)
    technique = _text("Technique notes")
    contraindications = _text("Contraindications")
    prescription_only = BooleanField("Prescription-only (sold to prescribers only)")
    seen = HiddenField()  # the version of the product the form was drawn from

    def offer(self, brands, categories, ingredients, areas) -> None:
        self.brand_id.choices = [SelectChoice(b.id, b.name) for b in brands]
        self.category_id.choices = [SelectChoice(c.id, c.name) for c in categories]
        self.ingredient_ids.choices = [SelectChoice(i.id, i.name) for i in ingredients]
        self.area_ids.choices = [SelectChoice(a.id, a.name) for a in areas]

    def fill_from(self, product: Product) -> None:
        for name in ("name", "summary", "description", "composition", "technique", "contraindications"):
            getattr(self, name).data = getattr(product, name)
        self.brand_id.data, self.category_id.data = product.brand_id, product.category_id
        self.prescription_only.data = product.prescription_only
        self.ingredient_ids.data = [i.id for i in product.ingredients]
        self.area_ids.data = [a.id for a in product.treatment_areas]
        for market in MARKETS:
            status = product.status_in(market)
            self.market_field(market, "category").data = status.category.value if status else ""
            self.market_field(market, "note").data = status.note if status else ""
            self.market_field(market, "sale_permitted").data = status.sale_permitted if status else False

    def market_field(self, market: str, name: str):
        return getattr(self, f"{market.lower()}_{name}")

    def markets(self):
        """(market name, its category, note and cleared fields) for the page."""
        return [
            (
                RegulatoryStatus.MARKET_NAMES[m],
                self.market_field(m, "category"),
                self.market_field(m, "note"),
                self.market_field(m, "sale_permitted"),
            )
            for m in MARKETS
        ]

    def details(self) -> ProductDetails:
        clearances = []
        for market in MARKETS:
            category = self.market_field(market, "category").data
            clearances.append(
                Clearance(
                    market=market,
                    category=RegulatoryCategory(category) if category else None,
                    note=self.market_field(market, "note").data or "",
                    sale_permitted=bool(self.market_field(market, "sale_permitted").data),
                )
            )
        return ProductDetails(
            name=self.name.data,
            brand_id=self.brand_id.data,
            category_id=self.category_id.data,
            summary=self.summary.data or "",
            description=self.description.data or "",
            composition=self.composition.data or "",
            technique=self.technique.data or "",
            contraindications=self.contraindications.data or "",
            prescription_only=self.prescription_only.data,
            ingredient_ids=tuple(self.ingredient_ids.data or ()),
            area_ids=tuple(self.area_ids.data or ()),
            clearances=tuple(clearances),
        )


for _market in MARKETS:
    _name = RegulatoryStatus.MARKET_NAMES[_market]
    setattr(
        ProductForm,
        f"{_market.lower()}_category",
        SelectField(
            f"Status in the {_name}",
            choices=[SelectChoice("", "Not recorded"), *(SelectChoice(c.value, c.label) for c in RegulatoryCategory)],
        ),
    )
    setattr(ProductForm, f"{_market.lower()}_note", _text(f"Approved use and details ({_market})", 1000))
    setattr(ProductForm, f"{_market.lower()}_sale_permitted", BooleanField(f"Cleared for sale in the {_name}"))


class BreakForm(Form):
    """One volume price; a row left empty is no price."""

    min_quantity = IntegerField(
        "From packs",
        validators=[Optional(), a_number("Enter a whole number."), NumberRange(2, MAX_LINE_QUANTITY)],
        filters=[clean_text],
    )
    unit_price = DecimalField("Volume price a pack", places=2, validators=[Optional(), *money_checks()])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if (self.min_quantity.data is None) == (self.unit_price.data is None):
            return True
        missing = self.unit_price if self.unit_price.data is None else self.min_quantity
        missing.errors.append("Give both the quantity and its price, or neither.")
        return False


class VariantForm(ShopForm):
    sku = StringField("SKU", validators=[DataRequired("Enter the SKU."), Length(max=SKU_LENGTH)])
    gtin = StringField("GTIN (barcode number, optional)", validators=[Optional(), Length(max=20)])
    label = StringField("Option", validators=[DataRequired("Name the option."), Length(max=120)])
    pack_size = StringField("Pack", validators=[DataRequired("Describe the pack."), Length(max=120)])
    contains_lidocaine = BooleanField("Contains lidocaine")
    price = DecimalField(
        "Price a pack", places=2, validators=[InputRequired("Enter the price of a pack."), *money_checks()]
    )
    breaks = FieldList(FormField(BreakForm), label="Volume prices", min_entries=BREAK_ROWS, max_entries=10)
    reorder_level = IntegerField(
        "Reorder level",
        default=10,
        validators=[
            InputRequired("Enter the reorder level."),
            a_number("Enter a whole number."),
            NumberRange(0, MAX_REORDER_LEVEL, f"Between 0 and {MAX_REORDER_LEVEL:,}."),
        ],
    )
    active = BooleanField("Sold (uncheck to stop selling this variant)", default=True)
    seen = HiddenField()  # the version of the variant the form was drawn from

    def fill_from(self, variant: Variant) -> None:
        for name in ("sku", "label", "pack_size", "contains_lidocaine", "reorder_level", "active"):
            getattr(self, name).data = getattr(variant, name)
        self.gtin.data = variant.gtin or ""
        self.price.data = Decimal(variant.price_cents) / 100
        while len(self.breaks):
            self.breaks.pop_entry()
        rows = [(b.min_quantity, Decimal(b.unit_price_cents) / 100) for b in variant.price_breaks]
        for quantity, price in [*rows, *[(None, None)] * max(BREAK_ROWS - len(rows), 1)]:
            self.breaks.append_entry({"min_quantity": quantity, "unit_price": price})

    def details(self) -> VariantDetails:
        rows = [(row.min_quantity.data, row.unit_price.data) for row in self.breaks]
        return VariantDetails(
            sku=self.sku.data,
            gtin=self.gtin.data or "",
            label=self.label.data,
            pack_size=self.pack_size.data,
            price_cents=cents(self.price.data),
            contains_lidocaine=self.contains_lidocaine.data,
            reorder_level=self.reorder_level.data,
            active=self.active.data,
            breaks=tuple((q, cents(p)) for q, p in rows if q is not None and p is not None),
        )


class StockForm(ShopForm):
    """A clerk's change to a variant's stock."""

    kind = SelectField(
        "What happened",
        choices=[SelectChoice(m.value, m.label) for m in STAFF_MOVEMENTS],
        validators=[InputRequired("Choose what happened to the stock.")],
    )
    quantity = IntegerField(
        "Packs",
        validators=[
            InputRequired("Enter the number of packs."),
            a_number("Enter a whole number."),
            NumberRange(0, MAX_ADJUSTMENT, f"Between 0 and {MAX_ADJUSTMENT:,}."),
        ],
    )
    reference = StringField("Reference (delivery note, batch, return number)", validators=[Optional(), Length(max=120)])
    reason = TextAreaField("Why (needed for a count or a write-off)", validators=[Optional(), Length(max=1000)])

    def adjustment(self) -> Adjustment:
        return Adjustment(
            kind=Movement(self.kind.data),
            quantity=self.quantity.data,
            reason=self.reason.data or "",
            reference=self.reference.data or "",
        )
